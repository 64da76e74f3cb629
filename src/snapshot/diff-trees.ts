/**
 * diffTrees: the changes from one file system tree to another, written as an overlay layer
 * directory: what `upper` adds or changes is copied (entries with their owner, mode, times and
 * extended attributes; a directory whose own metadata is unchanged is only created to hold
 * changed entries), what it lacks becomes a whiteout (a 0/0 character device). As BuildKit's
 * diff, an entry counts as changed when its type, mode, owner, size, mtime, link target or
 * device differs; contents are not compared for files whose size and mtime match.
 */
import { copyFileSync, lchownSync, lstatSync, lutimesSync, chmodSync, mkdirSync, readdirSync, readlinkSync, symlinkSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { copyXattrs, mknod } from '../platform/linux-fs.ts';

const sameMeta = (a: Stats, b: Stats) =>
  a.mode === b.mode && a.uid === b.uid && a.gid === b.gid && Math.floor(a.mtimeMs) === Math.floor(b.mtimeMs) && a.rdev === b.rdev;

/** Whether `u` (in upper) differs from `l` (in lower) as an entry of its own (children aside). */
function changed(u: Stats, l: Stats | undefined, uPath: string, lPath: string): boolean {
  if (!l) return true;
  if (u.isDirectory()) return !l.isDirectory() || !sameMeta(u, l);
  if (!sameMeta(u, l) || u.size !== l.size) return true;
  if (u.isSymbolicLink()) return readlinkSync(uPath) !== readlinkSync(lPath);
  return false;
}

/** Writes the changes from `lower` to `upper` into the empty directory `out`. */
export async function diffTrees(lower: string | undefined, upper: string, out: string): Promise<void> {
  /** Directories to finish (metadata last, children first): upper path → out path. */
  const dirs: { from: string; to: string }[] = [];
  const ensureDir = (rel: string) => {
    // A directory in `out` for a changed child: with upper's metadata (set when finishing).
    const parts = rel.split('/').filter(Boolean);
    let cur = '';
    for (const p of parts) {
      cur = cur ? `${cur}/${p}` : p;
      const to = join(out, cur);
      if (lstatSync(to, { throwIfNoEntry: false })) continue;
      mkdirSync(to);
      dirs.push({ from: join(upper, cur), to });
    }
  };
  const copyEntry = async (from: string, to: string, st: Stats) => {
    if (st.isDirectory()) {
      mkdirSync(to);
      for (const n of readdirSync(from)) {
        const cst = lstatSync(join(from, n), { throwIfNoEntry: false });
        if (cst) await copyEntry(join(from, n), join(to, n), cst);
      }
      dirs.push({ from, to });
      return;
    }
    if (st.isSymbolicLink()) symlinkSync(readlinkSync(from), to);
    else if (st.isFile()) copyFileSync(from, to);
    else if (st.isCharacterDevice() || st.isBlockDevice() || st.isFIFO()) {
      await mknod(to, st.isFIFO() ? 'p' : st.isCharacterDevice() ? 'c' : 'b', (st.rdev >>> 8) & 0xfff, (st.rdev & 0xff) | ((st.rdev >>> 12) & 0xfff00), st.mode & 0o7777);
    } else return; // sockets are not part of file system changes
    await copyXattrs(from, to);
    lchownSync(to, st.uid, st.gid);
    if (!st.isSymbolicLink()) chmodSync(to, st.mode & 0o7777);
    lutimesSync(to, st.atime, st.mtime);
  };
  const walk = async (rel: string) => {
    const uDir = join(upper, rel);
    const lDir = lower ? join(lower, rel) : undefined;
    const uNames = readdirSync(uDir).sort();
    const uSet = new Set(uNames);
    for (const n of uNames) {
      const r = rel ? `${rel}/${n}` : n;
      const uPath = join(uDir, n);
      const lPath = lDir ? join(lDir, n) : '';
      // (overlay lists a whiteout in a directory it does not merge, and hides it from lstat)
      const u = lstatSync(uPath, { throwIfNoEntry: false });
      if (!u) continue;
      const l = lDir ? lstatSync(lPath, { throwIfNoEntry: false }) : undefined;
      if (u.isDirectory() && l?.isDirectory()) {
        if (changed(u, l, uPath, lPath)) ensureDir(r);
        await walk(r);
        continue;
      }
      if (!changed(u, l, uPath, lPath)) continue;
      ensureDir(rel);
      await copyEntry(uPath, join(out, r), u);
    }
    if (!lDir) return;
    for (const n of readdirSync(lDir)) {
      if (uSet.has(n)) continue;
      ensureDir(rel);
      await mknod(join(out, rel, n), 'c', 0, 0, 0);
    }
  };
  await walk('');
  for (const { from, to } of dirs.reverse()) {
    const st = lstatSync(from);
    await copyXattrs(from, to);
    lchownSync(to, st.uid, st.gid);
    chmodSync(to, st.mode & 0o7777);
    lutimesSync(to, st.atime, st.mtime);
  }
}
