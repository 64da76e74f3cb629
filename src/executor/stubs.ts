/**
 * Mount stubs: the empty files and directories a runtime creates in the rootfs as mount
 * points (/etc/hosts, /etc/resolv.conf, mount destinations). Like BuildKit's
 * MountStubsCleaner (recursive mode), those that did not exist before the run and are still
 * empty afterwards are removed, and their parent's timestamps restored.
 */
import { lstat, lutimes, readdir, rmdir, unlink } from 'node:fs/promises';
import { dirname, posix } from 'node:path';
import { resolveInRoot } from '../util/root-path.ts';

async function exists(p: string): Promise<boolean> {
  try {
    await lstat(p);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return false;
    throw err;
  }
}

/**
 * Records which of `destinations` (container paths) and their parents are missing from
 * `rootfs` now; the returned function removes those that are empty stubs afterwards.
 * The cleaner never throws and never removes anything with content.
 */
export async function recordMountStubs(rootfs: string, destinations: string[]): Promise<() => Promise<void>> {
  const candidates: string[] = [];
  for (const d of destinations) {
    const clean = posix.join('/', d);
    if (clean === '/') continue;
    let p = await resolveInRoot(rootfs, clean);
    while (p !== rootfs && p.startsWith(`${rootfs}/`) && !(await exists(p))) {
      candidates.push(p);
      p = dirname(p);
    }
  }
  return async function cleanMountStubs() {
    for (const p of candidates) {
      try {
        // The step may have replaced a parent with a symlink: only the same path, resolved again
        // inside the rootfs, is ours to remove, and times never follow a link.
        if ((await resolveInRoot(rootfs, p.slice(rootfs.length), false)) !== p) continue;
        const st = await lstat(p);
        if (st.isSymbolicLink() || (st.isDirectory() ? (await readdir(p)).length !== 0 : st.size !== 0)) continue;
        const parent = dirname(p);
        const pst = await lstat(parent);
        if (!pst.isDirectory()) continue;
        if (st.isDirectory()) await rmdir(p);
        else await unlink(p);
        await lutimes(parent, pst.atime, pst.mtime);
      } catch {
        // already gone or not ours to remove
      }
    }
  };
}
