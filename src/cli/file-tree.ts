/**
 * FileTree (frontend/api.ts) over a directory, or over a solved snapshot: what frontends read
 * their inputs and their solved results through. Paths resolve as in a chroot (util/root-path.ts):
 * `..` and symlinks never leave the root.
 */
import { lstat, open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { constants, type Stats } from 'node:fs';
import type { FileInfo, FileTree } from '../frontend/api.ts';
import type { Store } from '../store/index.ts';
import type { Ref } from '../solver/types.ts';
import { resolveInRoot } from '../util/root-path.ts';
import { KilnError } from '../util/errors.ts';
import { openRootfsView } from './result-image.ts';

/**
 * The largest file a frontend reads whole (a Dockerfile, a .dockerignore): 16 MiB, the
 * message limit of BuildKit's frontend gateway; a device or endless file is refused, not read.
 */
export const MAX_READ = 16 << 20;

/**
 * A regular file of at most MAX_READ bytes, read whole (`label` names it in errors). A device,
 * a fifo or a file too large is refused; errno errors (ENOENT, ...) are thrown as they are.
 * One descriptor is checked and read (opened non-blocking: opening a fifo never waits).
 */
export async function readRegularFile(path: string, label: string): Promise<Buffer> {
  const fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new KilnError(`failed to read ${label}: not a regular file`, { kind: 'usage' });
    if (st.size > MAX_READ) throw new KilnError(`failed to read ${label}: ${st.size} bytes is more than kiln reads of a build file (${MAX_READ >> 20} MiB)`, { kind: 'usage' });
    const data = await fh.readFile();
    if (data.byteLength > MAX_READ) throw new KilnError(`failed to read ${label}: it grew past ${MAX_READ >> 20} MiB while read`, { kind: 'usage' });
    return data;
  } finally {
    await fh.close();
  }
}

const infoOf = (name: string, st: Stats): FileInfo => ({ name, isDirectory: st.isDirectory(), isSymbolicLink: st.isSymbolicLink(), size: st.size, mode: st.mode & 0o7777 });

/** The tree under `root`; `where` names it in errors (e.g. `the build context`). */
export function fileTreeAt(root: string, where: string): FileTree {
  const failed = (path: string, err: unknown): never => {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new KilnError(`failed to read ${path}: no such file in ${where}`, { kind: 'usage' });
    if (code === 'ENOTDIR') throw new KilnError(`failed to read ${path}: not a directory in ${where}`, { kind: 'usage' });
    if (code === 'EISDIR') throw new KilnError(`failed to read ${path}: a directory in ${where}`, { kind: 'usage' });
    throw err;
  };
  return {
    async readFile(path) {
      const p = await resolveInRoot(root, path);
      return readRegularFile(p, `${path} in ${where}`).catch((err) => (err instanceof KilnError ? Promise.reject(err) : failed(path, err)));
    },
    async readDir(path) {
      const p = await resolveInRoot(root, path);
      const names = (await readdir(p).catch((err) => failed(path, err))).sort();
      return Promise.all(names.map(async (n) => infoOf(n, await lstat(join(p, n)))));
    },
    async stat(path) {
      const p = await resolveInRoot(root, path);
      const st = await stat(p).catch(() => undefined);
      return st ? infoOf(path.split('/').filter(Boolean).pop() ?? '', st) : undefined;
    },
  };
}

/** The files of a solved result: each call mounts a read-only view of the snapshot and releases it. */
export function solvedTree(store: Store, ref: Ref): FileTree {
  const withTree = async <T>(fn: (t: FileTree) => Promise<T>): Promise<T> => {
    const view = await openRootfsView(store, ref);
    try {
      return await fn(fileTreeAt(view.dir, 'the solved result'));
    } finally {
      await view.release();
    }
  };
  return {
    readFile: (path) => withTree((t) => t.readFile(path)),
    readDir: (path) => withTree((t) => t.readDir(path)),
    stat: (path) => withTree((t) => t.stat(path)),
  };
}
