import { access, constants, mkdir, readFile, rm, statfs, writeFile } from 'node:fs/promises';
import { join, delimiter } from 'node:path';
import pc from 'picocolors';
import { spawnSync } from 'node:child_process';
import { resolveStateDir } from '../store/state-dir.ts';
import { enableEmulation, installedEmulators, registeredEmulators, runnableArchitectures } from '../executor/emulation.ts';
import { hostPlatform } from '../oci/platform.ts';

interface Check {
  name: string;
  ok: boolean;
  detail: string;
  fix?: string;
}

async function onPath(bin: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const p = join(dir, bin);
    try {
      await access(p, constants.X_OK);
      return p;
    } catch {}
  }
  return undefined;
}

async function checkRuntime(): Promise<Check> {
  const found = [(await onPath('runc')) && 'runc', (await onPath('crun')) && 'crun'].filter(Boolean) as string[];
  return found.length
    ? { name: 'OCI runtime', ok: true, detail: `${found.join(', ')} on PATH` }
    : { name: 'OCI runtime', ok: false, detail: 'neither runc nor crun is on PATH', fix: 'apt-get install runc   (or crun)' };
}

async function checkOverlay(): Promise<Check> {
  const fs = await readFile('/proc/filesystems', 'utf8').catch(() => '');
  return /\boverlay\b/.test(fs)
    ? { name: 'overlayfs', ok: true, detail: 'the kernel supports overlay mounts' }
    : { name: 'overlayfs', ok: false, detail: 'overlay is not in /proc/filesystems', fix: 'modprobe overlay' };
}

async function checkPrivileges(): Promise<Check> {
  if (process.getuid?.() === 0) return { name: 'privileges', ok: true, detail: 'running as root' };
  const max = await readFile('/proc/sys/user/max_user_namespaces', 'utf8').catch(() => '0');
  return Number(max) > 0
    ? { name: 'privileges', ok: false, detail: 'not root; user namespaces are available but rootless builds are not supported yet', fix: 'run kiln as root (sudo kiln ...)' }
    : { name: 'privileges', ok: false, detail: 'not root and user namespaces are off', fix: 'run kiln as root' };
}

async function checkStateDir(root: string): Promise<Check> {
  try {
    await mkdir(root, { recursive: true });
    const probe = join(root, `.doctor-${process.pid}`);
    await writeFile(probe, 'ok');
    await rm(probe);
    return { name: 'state dir', ok: true, detail: `${root} is writable` };
  } catch (err) {
    return { name: 'state dir', ok: false, detail: `${root}: ${(err as Error).message}`, fix: 'set KILN_ROOT or --root to a writable directory' };
  }
}

async function checkDisk(root: string): Promise<Check> {
  try {
    const s = await statfs(root);
    const free = s.bavail * s.bsize;
    const gib = free / 2 ** 30;
    return gib >= 2
      ? { name: 'free disk', ok: true, detail: `${gib.toFixed(1)} GiB free under ${root}` }
      : { name: 'free disk', ok: false, detail: `only ${gib.toFixed(2)} GiB free under ${root}`, fix: 'free space, or point KILN_ROOT at a bigger disk' };
  } catch (err) {
    return { name: 'free disk', ok: false, detail: (err as Error).message };
  }
}

/**
 * Whether RUN steps run under the default seccomp profile: the kernel filters system calls
 * (seccomp with errno actions) and the runtime was built with libseccomp.
 */
async function checkSeccomp(): Promise<Check> {
  const actions = await readFile('/proc/sys/kernel/seccomp/actions_avail', 'utf8').catch(() => '');
  if (!/\berrno\b/.test(actions)) return { name: 'seccomp', ok: false, detail: 'the kernel has no seccomp filters: RUN steps would run unfiltered, so kiln cannot start them', fix: 'a kernel with CONFIG_SECCOMP_FILTER' };
  const runtimes: string[] = [];
  for (const rt of ['runc', 'crun']) {
    if (!(await onPath(rt))) continue;
    const v = spawnSync(rt, ['--version'], { encoding: 'utf8' }).stdout ?? '';
    if (/libseccomp|\+SECCOMP/i.test(v)) runtimes.push(rt);
  }
  if (!runtimes.length) return { name: 'seccomp', ok: false, detail: 'no OCI runtime on PATH was built with libseccomp', fix: "Debian's runc and crun are" };
  const { seccompFor } = await import('../executor/seccomp.ts');
  const { DEFAULT_SECCOMP_PROFILE } = await import('../executor/seccomp-profile.ts');
  const { DEFAULT_CAPABILITIES } = await import('../executor/spec.ts');
  const p = seccompFor(DEFAULT_SECCOMP_PROFILE, { capabilities: DEFAULT_CAPABILITIES });
  const allowed = p.syscalls.filter((s) => s.action === 'SCMP_ACT_ALLOW').reduce((n, s) => n + s.names.length, 0);
  return { name: 'seccomp', ok: true, detail: `RUN steps are filtered by BuildKit's default profile (${allowed} system calls allowed on ${p.architectures.join(', ')}; ${runtimes.join(', ')} with libseccomp); RUN --security=insecure lifts it` };
}

/**
 * `--store`: the records database against the files (see store/verify.ts). Opening the
 * store first does what every build does at start: clean up after dead processes.
 */
async function checkStore(root: string): Promise<Check[]> {
  const { openStoreAfterCrash } = await import('./open-store.ts');
  const { verifyStore } = await import('../store/verify.ts');
  const store = await openStoreAfterCrash(root);
  try {
    const r = await verifyStore(store.db, store.layout);
    const { snapshots, cacheRecords, blobs, images } = r.counts;
    const checks: Check[] = [
      r.problems.length
        ? { name: 'store integrity', ok: false, detail: `${r.problems.length} problem(s):\n       ${r.problems.slice(0, 20).join('\n       ')}`, fix: 'kiln prune --all (drops the cache; the next build rebuilds)' }
        : { name: 'store integrity', ok: true, detail: `${snapshots} snapshots, ${cacheRecords} cache records, ${images} images, ${blobs} blobs: every record and blob checks out` },
    ];
    if (r.leftovers.length) {
      checks.push({ name: 'store leftovers', ok: true, detail: `${r.leftovers.length} unreferenced item(s) from interrupted writes (harmless):\n       ${r.leftovers.slice(0, 10).join('\n       ')}`, fix: 'kiln prune removes them' });
    }
    return checks;
  } finally {
    store.close();
  }
}

/**
 * The platforms RUN steps can run on: native ones and QEMU emulators registered with
 * binfmt_misc; how to enable the installed ones that are not, and how to get more. Always ok:
 * a build for another platform without RUN steps needs no emulator.
 */
async function checkPlatforms(): Promise<Check> {
  const host = hostPlatform();
  const runnable = runnableArchitectures(host.architecture).map((a) => `${host.os}/${a}`);
  const registered = new Set(registeredEmulators().map((e) => e.name));
  const waiting = installedEmulators().filter((e) => !registered.has(e.name));
  const broken = registeredEmulators().filter((e) => e.enabled && !e.fixBinary);
  const fix = waiting.length
    ? `kiln doctor --enable-emulation   (registers ${waiting.length} installed QEMU emulators with binfmt_misc)`
    : installedEmulators().length === 0
      ? 'apt-get install qemu-user-static, then kiln doctor --enable-emulation'
      : broken.length
        ? `re-register ${broken.map((e) => e.name).join(', ')} with the F flag (its interpreter must work inside containers)`
        : undefined;
  return { name: 'platforms RUN can use', ok: true, detail: runnable.join(', '), fix };
}

/** Prints one line per check (with how to fix it); returns the exit code (0 when all pass). */
export async function runDoctor(rootFlag?: string, opts: { store?: boolean; config?: string; enableEmulation?: boolean } = {}): Promise<number> {
  const { loadConfig } = await import('./config.ts');
  const root = resolveStateDir(rootFlag, process.env, (await loadConfig(opts.config)).root);
  if (opts.enableEmulation) {
    const { registered } = await enableEmulation();
    process.stdout.write(`registered ${registered.length ? registered.join(', ') : 'nothing new'} with binfmt_misc\n`);
  }
  const checks = [await checkRuntime(), await checkOverlay(), await checkSeccomp(), await checkPrivileges(), await checkStateDir(root), await checkDisk(root), await checkPlatforms()];
  if (opts.store) checks.push(...(await checkStore(root)));
  for (const c of checks) {
    const mark = c.ok ? (c.fix ? pc.yellow('note') : pc.green('ok  ')) : pc.red('FAIL');
    process.stdout.write(`${mark} ${c.name}: ${c.detail}${c.fix ? `\n       fix: ${c.fix}` : ''}\n`);
  }
  return checks.every((c) => c.ok) ? 0 : 1;
}
