/**
 * cloneLayer: a new layer directory that is a copy of an existing (immutable) layer, or of a
 * layer group squashed into one (merged-layers.ts), made with hard links: directories are
 * created with the same owner, mode, times and extended attributes (overlayfs keeps its
 * opaque and origin marks there); every other entry (file, symlink, whiteout device) is a
 * hard link, so no data is copied.
 *
 * Contract: the clone's linked entries share inodes with the source layers, so whoever
 * changes one of them must unlink it and write a new file (never write in place); the
 * source layers must stay immutable, as snapshot layers are.
 */
import { chmodSync, linkSync, lchownSync, lstatSync, lutimesSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { canCopyXattrs, copyXattrs, setXattr, xattrReader } from '../platform/linux-fs.ts';
import { allLayers, mergedEntries } from './merged-layers.ts';

const OPAQUE = 'trusted.overlay.opaque';

/**
 * Clones `from` (a layer dir, or a group of them top first) into the existing empty directory
 * `to`; false when this runtime cannot (no FFI for xattrs).
 */
export async function cloneLayer(from: string | string[], to: string): Promise<boolean> {
  if (!(await canCopyXattrs())) return false;
  const dirs = typeof from === 'string' ? [from] : from;
  const read = (await xattrReader())!;
  const isOpaque = (abs: string) => Buffer.from(read(abs, OPAQUE) ?? []).toString() === 'y';
  const made: { src: string; dst: string; opaque: boolean }[] = [];
  const walk = (rel: string, layers: number[]) => {
    for (const e of mergedEntries(dirs, rel, layers, isOpaque)) {
      const d = join(to, e.rel);
      if (e.st.isDirectory()) {
        mkdirSync(d);
        walk(e.rel, e.layers!);
        made.push({ src: e.abs, dst: d, opaque: !!e.opaque });
      } else {
        linkSync(e.abs, d);
      }
    }
  };
  walk('', allLayers(dirs.length));
  made.push({ src: dirs[0]!, dst: to, opaque: false });
  // Directory metadata last (children first), so creating entries does not touch the times.
  for (const { src, dst, opaque } of made) {
    const st = lstatSync(src);
    await copyXattrs(src, dst);
    if (opaque && !isOpaque(src)) await setXattr(dst, OPAQUE, Buffer.from('y'));
    lchownSync(dst, st.uid, st.gid);
    chmodSync(dst, st.mode & 0o7777);
    lutimesSync(dst, st.atime, st.mtime);
  }
  return true;
}
