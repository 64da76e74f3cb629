/**
 * Which platforms RUN steps can run on here: the host's own architecture (and what its CPU
 * runs natively: 386 on amd64), plus every architecture a binfmt_misc handler serves with
 * QEMU user emulation (Debian's qemu-user-static installs the handlers' definitions in
 * /usr/lib/binfmt.d; they must be registered with the kernel, with the `F` flag so that the
 * interpreter works inside a container's root). `enableEmulation` registers them as
 * systemd-binfmt would, on hosts where nothing did.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mount } from '../platform/linux-fs.ts';
import { hostArch } from '../util/host-arch.ts';

export const BINFMT_DIR = '/proc/sys/fs/binfmt_misc';
export const BINFMT_CONF_DIR = '/usr/lib/binfmt.d';

/** QEMU's names for architectures → OCI's. */
const QEMU_ARCH: Record<string, string> = {
  aarch64: 'arm64',
  arm: 'arm',
  x86_64: 'amd64',
  i386: '386',
  riscv64: 'riscv64',
  ppc64le: 'ppc64le',
  s390x: 's390x',
  mips64el: 'mips64le',
  mipsel: 'mipsle',
  mips64: 'mips64',
  mips: 'mips',
  loongarch64: 'loong64',
};

/** Architectures a CPU of the key's architecture runs without emulation. */
const NATIVE: Record<string, string[]> = { amd64: ['amd64', '386'], arm64: ['arm64'] };

export interface Emulator {
  /** OCI architecture name (`arm64`). */
  architecture: string;
  /** The handler's name (`qemu-aarch64`). */
  name: string;
  interpreter: string;
  enabled: boolean;
  /** `F`: the interpreter was opened at registration, so it works inside containers. */
  fixBinary: boolean;
}

/**
 * For a step of `platform` whose programs the kernel refused (`exec format error` in its
 * output) with no emulator for its architecture: the message to give instead of the exit code.
 */
export function cannotRunHere(platform: { os: string; architecture: string; variant?: string } | undefined, output: string[]): { message: string; hint: string } | undefined {
  if (!platform || !output.some((l) => l.includes('exec format error'))) return undefined;
  const host = hostArch().architecture;
  if (runnableArchitectures(host).includes(platform.architecture)) return undefined;
  const name = `${platform.os}/${platform.architecture}${platform.variant ? `/${platform.variant}` : ''}`;
  return {
    message: `cannot run ${name} programs on this linux/${host} host: no emulator for ${platform.architecture} is registered (binfmt_misc)`,
    hint: 'apt-get install qemu-user-static, then kiln doctor --enable-emulation (kiln doctor lists the platforms RUN can use)',
  };
}

/** The QEMU handlers registered with the kernel (empty when binfmt_misc is not mounted). */
export function registeredEmulators(dir = BINFMT_DIR): Emulator[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.startsWith('qemu-'));
  } catch {
    return [];
  }
  const out: Emulator[] = [];
  for (const name of names) {
    const arch = QEMU_ARCH[name.slice('qemu-'.length)];
    if (!arch) continue;
    let text = '';
    try {
      text = readFileSync(join(dir, name), 'utf8');
    } catch {
      continue;
    }
    const field = (k: string) => text.split('\n').find((l) => l.startsWith(`${k} `))?.slice(k.length + 1) ?? '';
    out.push({ architecture: arch, name, interpreter: field('interpreter'), enabled: text.startsWith('enabled'), fixBinary: field('flags:').includes('F') });
  }
  return out.sort((a, b) => a.architecture.localeCompare(b.architecture));
}

/** Handler definitions installed but maybe not registered (qemu-user-static's /usr/lib/binfmt.d/qemu-*.conf). */
export function installedEmulators(confDir = BINFMT_CONF_DIR): { architecture: string; name: string; conf: string }[] {
  let files: string[];
  try {
    files = readdirSync(confDir).filter((f) => /^qemu-.+\.conf$/.test(f));
  } catch {
    return [];
  }
  return files
    .map((f) => ({ name: f.slice(0, -'.conf'.length), conf: join(confDir, f) }))
    .map((e) => ({ ...e, architecture: QEMU_ARCH[e.name.slice('qemu-'.length)] ?? '' }))
    .filter((e) => e.architecture);
}

/** The architectures RUN steps can run on: native ones and those with an enabled, container-ready handler. */
export function runnableArchitectures(hostArch: string, dir = BINFMT_DIR): string[] {
  const set = new Set(NATIVE[hostArch] ?? [hostArch]);
  for (const e of registeredEmulators(dir)) if (e.enabled && e.fixBinary) set.add(e.architecture);
  return [...set].sort();
}

/**
 * Registers every installed QEMU handler the kernel does not have yet (mounting binfmt_misc
 * first when needed), as systemd-binfmt does at boot. Needs root. Returns the names registered
 * and whether binfmt_misc was mounted here.
 */
export async function enableEmulation(dir = BINFMT_DIR, confDir = BINFMT_CONF_DIR): Promise<{ registered: string[]; mounted: boolean }> {
  const mounted = !existsSync(join(dir, 'register'));
  if (mounted) await mount('binfmt_misc', dir, 'binfmt_misc', 'rw');
  const have = new Set(registeredEmulators(dir).map((e) => e.name));
  const done: string[] = [];
  for (const e of installedEmulators(confDir)) {
    if (have.has(e.name)) continue;
    const line = readFileSync(e.conf, 'utf8').split('\n').find((l) => l.startsWith(':'));
    if (!line) continue;
    writeFileSync(join(dir, 'register'), line);
    done.push(e.name);
  }
  return { registered: done, mounted };
}

/** Unregisters handlers by name (what a test registered). */
export function disableEmulators(names: string[], dir = BINFMT_DIR): void {
  for (const n of names) {
    try {
      writeFileSync(join(dir, n), '-1');
    } catch {
      // already gone
    }
  }
}
