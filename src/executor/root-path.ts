/**
 * Paths inside a container rootfs, resolved on the host the way the container would see
 * them: symlinks are followed with the rootfs as "/", and ".." never climbs above it.
 */
import { chmod, chown, lstat, mkdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { KilnError } from '../util/errors.ts';

const MAX_SYMLINKS = 255;

function splitPath(p: string): string[] {
  return p.split('/').filter((s) => s !== '' && s !== '.');
}

async function lstatOrNull(p: string) {
  try {
    return await lstat(p);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw err;
  }
}

/**
 * The host path of `path` (absolute or relative to "/") inside `root`. Every existing
 * component is a real directory or the final entry, so the result always lies inside
 * `root`; components that do not exist yet are kept literally. Read-only; safe concurrently.
 */
export async function resolveInRoot(root: string, path: string): Promise<string> {
  let pending = splitPath(path);
  let done: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '..') {
      done.pop();
      continue;
    }
    const host = join(root, ...done, part);
    const st = await lstatOrNull(host);
    if (st?.isSymbolicLink()) {
      if (++links > MAX_SYMLINKS) {
        throw new KilnError(`too many levels of symbolic links resolving ${path}`, { kind: 'build' });
      }
      const target = await readlink(host);
      if (target.startsWith('/')) done = [];
      pending = [...splitPath(target), ...pending];
      continue;
    }
    done.push(part);
  }
  return join(root, ...done);
}

/**
 * Creates `hostPath` (a path already resolved inside `root`) and its missing parents with
 * `mode`, giving only the directories it creates to `uid:gid`. Existing entries are left
 * as they are. Idempotent.
 */
export async function mkdirAllOwned(root: string, hostPath: string, uid: number, gid: number, mode = 0o755): Promise<void> {
  const rel = splitPath(hostPath.slice(root.length));
  let cur = root;
  for (const part of rel) {
    cur = join(cur, part);
    if (await lstatOrNull(cur)) continue;
    try {
      await mkdir(cur, { mode });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw err;
    }
    await chmod(cur, mode);
    await chown(cur, uid, gid);
  }
}
