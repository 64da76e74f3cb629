/** Test helpers: a busybox rootfs in a temp dir, and leak checks for the state dir. */
import { execFileSync } from 'node:child_process';
import { copyFile, mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTempDir } from '../../src/util/fs.ts';

const APPLETS = ['sh', 'ls', 'cat', 'echo', 'id', 'env', 'pwd', 'sleep', 'hostname', 'ip', 'nc', 'mount', 'stat', 'touch', 'true', 'false', 'grep', 'test', 'wc', 'ps', 'mkdir', 'sed'];

export const PASSWD = [
  'root:x:0:0:root:/root:/bin/sh',
  'alice:x:1000:1000:Alice:/home/alice:/bin/sh',
  'bob:x:1001:1001:Bob:/home/bob:/bin/sh',
  'nobody:x:65534:65534:nobody:/:/bin/false',
  '',
].join('\n');

export const GROUP = [
  'root:x:0:',
  'alice:x:1000:',
  'bob:x:1001:',
  'staff:x:50:alice,bob',
  'audio:x:29:alice',
  'nogroup:x:65534:',
  '',
].join('\n');

/** A fresh rootfs dir under `parent` with static busybox, applet symlinks, /etc/passwd and /etc/group. */
export async function makeBusyboxRootfs(parent: string): Promise<string> {
  const root = await makeTempDir('rootfs-', parent);
  await mkdir(join(root, 'bin'));
  await mkdir(join(root, 'etc'));
  await copyFile('/bin/busybox', join(root, 'bin/busybox'));
  execFileSync('chmod', ['755', join(root, 'bin/busybox')]);
  for (const a of APPLETS) await symlink('busybox', join(root, 'bin', a));
  await writeFile(join(root, 'etc/passwd'), PASSWD);
  await writeFile(join(root, 'etc/group'), GROUP);
  return root;
}

/** Containers the runtime still knows in `stateDir` (should be none after every run). */
export function runtimeList(stateDir: string, runtime = 'runc'): string[] {
  const out = execFileSync(runtime, ['--root', stateDir, 'list', '-q'], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.trim() !== '');
}

/** Entries left in `stateDir` other than the runtime's own (bundles, hosts files). */
export async function leftovers(stateDir: string): Promise<string[]> {
  const names = await readdir(stateDir).catch(() => [] as string[]);
  return names.filter((n) => n.endsWith('.bundle'));
}

/** Mount points under `dir` still listed in /proc/self/mountinfo. */
export async function mountsUnder(dir: string): Promise<string[]> {
  const { readFile } = await import('node:fs/promises');
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  return info.split('\n').map((l) => l.split(' ')[4] ?? '').filter((m) => m === dir || m.startsWith(`${dir}/`));
}
