/**
 * The few Linux file-system calls Node has no API for: device nodes, extended attributes,
 * mounts. They spawn the system tools (coreutils mknod/mkfifo, attr's getfattr/setfattr,
 * util-linux mount/umount) so the same code runs under Bun, Deno and Node; callers keep
 * them rare (whiteouts, opaque dirs, devices, xattrs). Mounts, several per step, go
 * through mount(2) directly where the runtime has FFI (libc.ts).
 */
import { spawn } from 'node:child_process';
import { libc, MS_BIND, MS_RDONLY, MS_REMOUNT } from './libc.ts';

function run(cmd: string, args: string[], opts: { cwd?: string } = {}): Promise<{ stdout: string; stderr: string; code: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', (err) =>
      reject(
        (err as NodeJS.ErrnoException).code === 'ENOENT'
          ? new Error(`${cmd} is not installed (${cmd.endsWith('fattr') ? 'apt-get install attr' : `install ${cmd}`})`)
          : err,
      ),
    );
    child.on('close', (code) => resolve({ stdout, stderr, code: code ?? 1 }));
  });
}

async function must(cmd: string, args: string[], what: string, opts: { cwd?: string } = {}): Promise<string> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${what}: ${r.stderr.trim() || `${cmd} exited with ${r.code}`}`);
  return r.stdout;
}

/** Creates a device node or fifo. `mode` is the permission bits. */
export async function mknod(path: string, type: 'c' | 'b' | 'p', major: number, minor: number, mode = 0o644): Promise<void> {
  const m = (mode & 0o7777).toString(8);
  if (type === 'p') await must('mkfifo', ['-m', m, path], `mkfifo ${path}`);
  else await must('mknod', ['-m', m, path, type, String(major), String(minor)], `mknod ${path}`);
}

/**
 * syncfs(2) of the file system `dir` is on (`sync -f`, in another process: this thread is not
 * blocked while the disk catches up). Resolves when done; never rejects (a sync that cannot run
 * leaves the data to the kernel's own writeback).
 */
export async function syncFileSystem(dir: string): Promise<void> {
  await run('sync', ['-f', dir]).catch(() => {});
}

/** Sets an extended attribute on `path` itself (never following a symlink). */
export async function setXattr(path: string, name: string, value: Uint8Array): Promise<void> {
  await must('setfattr', ['-h', '-n', name, '-v', `0s${Buffer.from(value).toString('base64')}`, path], `setfattr ${name} on ${path}`);
}

/**
 * Every extended attribute of every path under `dir` (not following symlinks), one spawn
 * for the whole tree: path (absolute) → name → value.
 */
export async function listXattrsTree(dir: string): Promise<Map<string, Map<string, Uint8Array>>> {
  const r = await run('getfattr', ['-R', '-P', '-h', '-d', '-m', '-', '-e', 'base64', '--absolute-names', dir]);
  // getfattr exits 1 when some file has no xattrs or a name is odd; the output is still complete.
  const out = new Map<string, Map<string, Uint8Array>>();
  let cur: Map<string, Uint8Array> | undefined;
  for (const line of r.stdout.split('\n')) {
    if (line.startsWith('# file: ')) {
      cur = new Map();
      out.set(unescapeName(line.slice('# file: '.length)), cur);
    } else if (cur && line.includes('=')) {
      const i = line.indexOf('=');
      cur.set(line.slice(0, i), decodeValue(line.slice(i + 1)));
    }
  }
  return out;
}

function decodeValue(v: string): Uint8Array {
  if (v.startsWith('0s')) return Buffer.from(v.slice(2), 'base64');
  if (v.startsWith('0x')) return Buffer.from(v.slice(2), 'hex');
  if (v.startsWith('"') && v.endsWith('"')) return Buffer.from(v.slice(1, -1));
  return Buffer.from(v);
}

/** getfattr escapes odd characters in names as \ooo (octal). */
function unescapeName(s: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\' && /^[0-7]{3}$/.test(s.slice(i + 1, i + 4))) {
      bytes.push(parseInt(s.slice(i + 1, i + 4), 8));
      i += 3;
    } else bytes.push(...Buffer.from(s[i]!));
  }
  return Buffer.from(bytes).toString();
}

/**
 * `mount -t TYPE -o OPTIONS SOURCE TARGET`, optionally from `cwd` (for relative option
 * paths). Through mount(2) directly when the runtime has FFI; else, or when that fails
 * (to get the tool's message), by spawning mount.
 */
export async function mount(source: string, target: string, type: string, options: string, cwd?: string): Promise<void> {
  const c = cwd ? undefined : await libc();
  if (c) {
    if (type === 'bind') {
      const ro = options.split(',').includes('ro');
      if (c.mount(source, target, null, MS_BIND, null) === 0) {
        if (!ro || c.mount(null, target, null, MS_BIND | MS_REMOUNT | MS_RDONLY, null) === 0) return;
        c.umount2(target, MNT_DETACH);
      }
    } else if (c.mount(source, target, type, 0, options) === 0) return;
  }
  const args = type === 'bind' ? ['--bind', '-o', options, source, target] : ['-t', type, '-o', options, source, target];
  await must('mount', args, `mount ${type} at ${target}`, { cwd });
}

const MNT_DETACH = 2;

/** Unmounts `target`; retries briefly when busy, then detaches lazily. */
export async function umount(target: string): Promise<void> {
  const c = await libc();
  if (c && c.umount2(target, 0) === 0) return;
  for (let i = 0; i < 5; i++) {
    const r = await run('umount', [target]);
    if (r.code === 0) return;
    if (/not mounted|no mount point/.test(r.stderr)) return;
    await new Promise((res) => setTimeout(res, 50 * (i + 1)));
  }
  await must('umount', ['-l', target], `umount ${target}`);
}

/**
 * Copies every extended attribute of `from` onto `to` (neither followed if a symlink), through
 * FFI. Resolves false when this runtime has no FFI (callers then avoid needing it), throws
 * when a call fails.
 */
export async function copyXattrs(from: string, to: string): Promise<boolean> {
  const c = await libc();
  if (!c) return false;
  const names = new Uint8Array(64 * 1024);
  const len = c.llistxattr(from, names);
  if (len < 0) throw new Error(`cannot list the extended attributes of ${from}`);
  const value = new Uint8Array(64 * 1024);
  for (const name of new TextDecoder().decode(names.subarray(0, len)).split('\0').filter(Boolean)) {
    const n = c.lgetxattr(from, name, value);
    if (n < 0) throw new Error(`cannot read extended attribute ${name} of ${from}`);
    if (c.lsetxattr(to, name, value.slice(0, n), 0) !== 0) throw new Error(`cannot set extended attribute ${name} on ${to}`);
  }
  return true;
}

/**
 * A synchronous reader of one extended attribute of a path itself (through FFI; undefined
 * when absent), or undefined when this runtime has no FFI.
 */
export async function xattrReader(): Promise<((path: string, name: string) => Uint8Array | undefined) | undefined> {
  const c = await libc();
  if (!c) return undefined;
  const value = new Uint8Array(64 * 1024);
  return (path, name) => {
    const n = c.lgetxattr(path, name, value);
    return n < 0 ? undefined : value.slice(0, n);
  };
}

/** Every extended attribute of one path: name → value (undefined when it has none). */
export type XattrLookup = (path: string) => Map<string, Uint8Array> | undefined;

/**
 * Extended attributes of the paths under `dirs`, looked up one path at a time. With FFI, each
 * lookup is an llistxattr(2) (and an lgetxattr(2) per name) of the path itself, made when
 * asked: no second walk of the tree. Without FFI, one getfattr spawn per dir reads them all
 * first (listXattrsTree).
 */
export async function treeXattrs(dirs: string[]): Promise<XattrLookup> {
  const c = await libc();
  if (c) {
    const names = new Uint8Array(64 * 1024);
    const value = new Uint8Array(64 * 1024);
    const decoder = new TextDecoder();
    return (path) => {
      const len = c.llistxattr(path, names);
      if (len <= 0) return undefined;
      const out = new Map<string, Uint8Array>();
      for (const name of decoder.decode(names.subarray(0, len)).split('\0')) {
        if (!name) continue;
        const n = c.lgetxattr(path, name, value);
        if (n >= 0) out.set(name, value.slice(0, n));
      }
      return out.size ? out : undefined;
    };
  }
  const all = new Map<string, Map<string, Uint8Array>>();
  for (const d of dirs) for (const [k, v] of await listXattrsTree(d)) all.set(k, v);
  return (path) => all.get(path);
}

/** Whether copyXattrs can work in this runtime. */
export async function canCopyXattrs(): Promise<boolean> {
  return (await libc()) !== undefined;
}
