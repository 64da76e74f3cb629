/**
 * Directories made inside a container rootfs for a step (its working directory), at a path
 * already resolved inside the rootfs (util/root-path.ts).
 */
import { chmod, chown, lstat, mkdir } from 'node:fs/promises';
import { join } from 'node:path';

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
