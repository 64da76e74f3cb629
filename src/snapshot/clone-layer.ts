/**
 * cloneLayer: a new layer directory that is a copy of an existing (immutable) one, made with
 * hard links: directories are created with the same owner, mode, times and extended
 * attributes (overlayfs keeps its opaque and origin marks there); every other entry (file,
 * symlink, whiteout device) is a hard link, so no data is copied.
 *
 * Contract: the clone's linked entries share inodes with the source layer, so whoever
 * changes one of them must unlink it and write a new file (never write in place); the
 * source layer must stay immutable, as snapshot layers are.
 */
import { chmodSync, linkSync, lchownSync, lstatSync, lutimesSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { canCopyXattrs, copyXattrs } from '../platform/linux-fs.ts';

/** Clones `from` into the existing empty directory `to`; false when this runtime cannot (no FFI for xattrs). */
export async function cloneLayer(from: string, to: string): Promise<boolean> {
  if (!(await canCopyXattrs())) return false;
  const dirs: { src: string; dst: string }[] = [];
  const walk = (src: string, dst: string) => {
    for (const name of readdirSync(src)) {
      const s = join(src, name);
      const d = join(dst, name);
      const st = lstatSync(s);
      if (st.isDirectory()) {
        mkdirSync(d);
        walk(s, d);
        dirs.push({ src: s, dst: d });
      } else {
        linkSync(s, d);
      }
    }
  };
  walk(from, to);
  dirs.push({ src: from, dst: to });
  // Directory metadata last (children first), so creating entries does not touch the times.
  for (const { src, dst } of dirs) {
    const st = lstatSync(src);
    await copyXattrs(src, dst);
    lchownSync(dst, st.uid, st.gid);
    chmodSync(dst, st.mode & 0o7777);
    lutimesSync(dst, st.atime, st.mtime);
  }
  return true;
}
