/**
 * The seccomp filter of a RUN step: BuildKit's default profile (seccomp-profile.ts, generated
 * from moby/profiles' default.json) evaluated as moby/profiles' setupSeccomp does: the host
 * architecture with its sub-architectures, and each rule kept or dropped by its `includes` /
 * `excludes` (architecture, capabilities in the step's bounding set, kernel version). A step
 * with `--security=insecure` runs without one (unconfined), as BuildKit's does.
 */
import { release } from 'node:os';

interface Filter {
  arches?: string[];
  caps?: string[];
  minKernel?: string;
}

interface Rule {
  names: string[];
  action: string;
  args?: { index: number; value: number; valueTwo?: number; op: string }[];
  errnoRet?: number;
  comment?: string;
  includes?: Filter;
  excludes?: Filter;
}

/** The profile as moby writes it (default.json). */
export interface SeccompProfileSource {
  defaultAction: string;
  defaultErrnoRet?: number;
  archMap: { architecture: string; subArchitectures: string[] | null }[];
  syscalls: Rule[];
}

/** What config.json's linux.seccomp holds (OCI runtime spec). */
export interface LinuxSeccomp {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures: string[];
  syscalls: { names: string[]; action: string; args?: Rule['args']; errnoRet?: number }[];
}

/** Node's process.arch → libseccomp's names (moby's goToNative). */
const NATIVE: Record<string, string> = { x64: 'amd64', ia32: 'x86', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64', loong64: 'loongarch64', mips64el: 'mipsel64' };
/** libseccomp's names → the spec's SCMP_ARCH_* (moby's nativeToSeccomp). */
const SCMP_ARCH: Record<string, string> = {
  x86: 'SCMP_ARCH_X86', amd64: 'SCMP_ARCH_X86_64', arm: 'SCMP_ARCH_ARM', arm64: 'SCMP_ARCH_AARCH64', loongarch64: 'SCMP_ARCH_LOONGARCH64',
  mipsel64: 'SCMP_ARCH_MIPSEL64', ppc64le: 'SCMP_ARCH_PPC64LE', riscv64: 'SCMP_ARCH_RISCV64', s390x: 'SCMP_ARCH_S390X',
};

/** "6.1.0-18-amd64" → [6, 1]. */
export function kernelVersion(text = release()): [number, number] {
  const m = /^(\d+)\.(\d+)/.exec(text);
  return m ? [Number(m[1]), Number(m[2])] : [0, 0];
}

function atLeast(kernel: [number, number], min: string): boolean {
  const [maj, minor] = min.split('.').map(Number) as [number, number];
  return kernel[0] > maj || (kernel[0] === maj && kernel[1] >= (minor ?? 0));
}

/**
 * The filter for a step on this host: `arch` is Node's process.arch, `capabilities` the
 * step's bounding set, `kernel` the running kernel's version.
 */
export function seccompFor(profile: SeccompProfileSource, opts: { arch?: string; capabilities: string[]; kernel?: [number, number] }): LinuxSeccomp {
  const arch = NATIVE[opts.arch ?? process.arch] ?? opts.arch ?? process.arch;
  const kernel = opts.kernel ?? kernelVersion();
  const caps = new Set(opts.capabilities);
  const scmp = SCMP_ARCH[arch];
  const entry = profile.archMap.find((a) => a.architecture === scmp);
  const architectures = entry ? [entry.architecture, ...(entry.subArchitectures ?? [])] : [];
  const syscalls: LinuxSeccomp['syscalls'] = [];
  for (const r of profile.syscalls) {
    const ex = r.excludes;
    if (ex) {
      if (ex.arches?.includes(arch)) continue;
      if (ex.caps?.some((c) => caps.has(c))) continue;
      if (ex.minKernel && atLeast(kernel, ex.minKernel)) continue;
    }
    const inc = r.includes;
    if (inc) {
      if (inc.arches?.length && !inc.arches.includes(arch)) continue;
      if (inc.caps?.length && !inc.caps.every((c) => caps.has(c))) continue;
      if (inc.minKernel && !atLeast(kernel, inc.minKernel)) continue;
    }
    syscalls.push({ names: r.names, action: r.action, ...(r.args?.length ? { args: r.args } : {}), ...(r.errnoRet !== undefined ? { errnoRet: r.errnoRet } : {}) });
  }
  return { defaultAction: profile.defaultAction, ...(profile.defaultErrnoRet !== undefined ? { defaultErrnoRet: profile.defaultErrnoRet } : {}), architectures, syscalls };
}
