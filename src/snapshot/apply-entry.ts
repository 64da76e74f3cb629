/**
 * One tar entry of a layer written into the layer's directory, in overlay format. Every
 * path an entry touches (its parent, a hard link's target, a whiteout's victim) is resolved
 * inside the layer directory as if it were "/" (util/root-path.ts, openat2's RESOLVE_IN_ROOT):
 * a symlink the layer holds is followed inside it, never out of it — containerd's rule for
 * applying a layer onto an overlay upper dir, which BuildKit uses. Owner, mode and times go
 * through the descriptor of the file just created or onto entries kiln itself just made, and
 * directory times are set without following links, so no call lands on a host file.
 */
import {
  chmodSync, closeSync, constants, copyFileSync, fchmodSync, fchownSync, futimesSync, lchownSync, linkSync, lstatSync,
  lutimesSync, mkdirSync, openSync, readlinkSync, rmSync, symlinkSync, writeSync, type Stats,
} from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { Header } from 'tar-stream';
import { KilnError } from '../util/errors.ts';
import { lstatOrUndefined, resolveInRoot } from '../util/root-path.ts';
import { mknod, setXattr } from '../platform/linux-fs.ts';

export type EntryHeader = Partial<Header> & { name: string; pax?: Record<string, string> };

const WH = '.wh.';
const WH_META = '.wh..wh.';
const OPQ = '.wh..wh..opq';

/** What one layer's extraction remembers between entries. */
export interface LayerState {
  /** The layer directory being written (empty at the start). */
  root: string;
  /** The layers below, top first: hard links may point into them; missing parents copy their metadata. */
  lowerDirs: string[];
  /** Directory times, set last (writing children changes them). */
  dirTimes: { path: string; mtime: Date }[];
  /**
   * Parent directories already resolved and made (entry dir → host path). Cleared whenever an
   * entry replaces or removes a path: a resolved directory may have become a symlink.
   */
  parents: Map<string, string>;
}

/** Cleans a tar entry name to a relative path inside the root; '' is the root itself. */
export function cleanEntryName(name: string): string {
  const out: string[] = [];
  for (const c of name.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') {
      if (out.length === 0) throw new KilnError(`layer entry escapes the root: ${JSON.stringify(name)}`, { kind: 'input' });
      out.pop();
    } else out.push(c);
  }
  return out.join('/');
}

const isWhiteout = (st: Stats) => st.isCharacterDevice() && st.rdev === 0;

function refuse(h: EntryHeader, why: string): KilnError {
  return new KilnError(`layer entry ${JSON.stringify(h.name)} ${why}`, { kind: 'input' });
}

/**
 * The host directory holding `rel`'s entry, resolved inside the root and made when missing
 * (a made directory takes the metadata of the same directory in the nearest lower layer, as
 * overlay's copy-up would show it, else 0755 root).
 */
async function parentOf(s: LayerState, h: EntryHeader, rel: string): Promise<string> {
  const slash = rel.lastIndexOf('/');
  if (slash < 0) return s.root;
  const dirRel = rel.slice(0, slash);
  const known = s.parents.get(dirRel);
  if (known) return known;
  const host = await resolveInRoot(s.root, dirRel, true);
  const parts = host.slice(s.root.length).split('/').filter(Boolean);
  let cur = s.root;
  for (const [i, part] of parts.entries()) {
    cur = join(cur, part);
    const st = lstatOrUndefined(cur);
    if (st?.isDirectory()) continue;
    if (st) throw refuse(h, `is under ${JSON.stringify(parts.slice(0, i + 1).join('/'))}, which is not a directory`);
    mkdirSync(cur, { mode: 0o755 });
    await copyUpDirMeta(s, parts.slice(0, i + 1).join('/'), cur);
  }
  s.parents.set(dirRel, host);
  return host;
}

/** Gives a directory made for a missing parent the owner, mode and time of the lower layer's. */
async function copyUpDirMeta(s: LayerState, rel: string, made: string): Promise<void> {
  for (const lower of s.lowerDirs) {
    const st = lstatOrUndefined(await resolveInRoot(lower, rel, true));
    if (!st) continue;
    if (!st.isDirectory()) return; // replaced there: nothing to copy
    lchownSync(made, st.uid, st.gid);
    chmodSync(made, st.mode & 0o7777);
    s.dirTimes.push({ path: made, mtime: st.mtime });
    return;
  }
}

/** Removes what is at `path` (never following a link) and forgets resolved parents. */
function removeExisting(s: LayerState, path: string): void {
  rmSync(path, { recursive: true, force: true });
  s.parents.clear();
}

/** Applies one entry. Errors a user's image can cause are KilnErrors naming the entry. */
export async function applyEntry(s: LayerState, h: EntryHeader, body: Readable): Promise<void> {
  try {
    await applyEntryUnchecked(s, h, body);
  } catch (err) {
    if (err instanceof KilnError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw refuse(h, `cannot be extracted: ${code ? `${code} ` : ''}${(err as Error).message}`);
  }
}

async function applyEntryUnchecked(s: LayerState, h: EntryHeader, body: Readable): Promise<void> {
  const rel = cleanEntryName(h.name);
  if (rel === '') {
    if (h.type === 'directory') s.dirTimes.push({ path: s.root, mtime: validDate(h.mtime) });
    return;
  }
  const base = rel.slice(rel.lastIndexOf('/') + 1);
  const parent = await parentOf(s, h, rel);
  if (base === OPQ) {
    await setXattr(parent, 'trusted.overlay.opaque', Buffer.from('y'));
    return;
  }
  if (base.startsWith(WH_META)) return; // aufs bookkeeping (.wh..wh.plnk, ...): not a file
  if (base.startsWith(WH)) {
    const name = base.slice(WH.length);
    if (name === '' || name === '.' || name === '..') throw refuse(h, 'is a whiteout of no file');
    const victim = join(parent, name);
    removeExisting(s, victim);
    await mknod(victim, 'c', 0, 0, 0);
    return;
  }
  const target = join(parent, base);
  const existing = lstatOrUndefined(target);
  if (existing && !(existing.isDirectory() && h.type === 'directory')) removeExisting(s, target);
  if (sparse(h)) throw refuse(h, 'is a sparse file, which kiln does not extract (docker and BuildKit never write one)');
  const mode = (h.mode ?? 0o644) & 0o7777;
  const mtime = validDate(h.mtime);
  const uid = h.uid ?? 0;
  const gid = h.gid ?? 0;
  switch (h.type as string) {
    case 'directory':
      if (!existing?.isDirectory()) mkdirSync(target, { mode: 0o700 });
      lchownSync(target, uid, gid);
      chmodSync(target, mode); // a directory kiln made or merged into: never a link
      await setPaxXattrs(h, target);
      s.dirTimes.push({ path: target, mtime });
      return;
    case 'file':
    case 'contiguous-file':
      await writeRegular(target, body, uid, gid, mode, mtime);
      await setPaxXattrs(h, target);
      return;
    case 'symlink':
      symlinkSync(h.linkname ?? '', target);
      lchownSync(target, uid, gid);
      await setPaxXattrs(h, target);
      lutimesSync(target, mtime, mtime);
      return;
    case 'link':
      await hardLink(s, h, target);
      return;
    case 'character-device':
    case 'block-device':
    case 'fifo':
      if (h.type === 'fifo') await mknod(target, 'p', 0, 0, mode);
      else await mknod(target, h.type === 'character-device' ? 'c' : 'b', h.devmajor ?? 0, h.devminor ?? 0, mode);
      lchownSync(target, uid, gid);
      chmodSync(target, mode); // the node mknod just made (chown cleared its setuid bits)
      await setPaxXattrs(h, target);
      lutimesSync(target, mtime, mtime);
      return;
    case 'pax-global-header':
      return;
    default:
      throw refuse(h, `has a tar entry type kiln does not extract (${h.type ?? 'unknown'})`);
  }
}

/** A GNU sparse file, in any of its encodings (old GNU 'S' entries reach here with no type). */
function sparse(h: EntryHeader): boolean {
  return Object.keys(h.pax ?? {}).some((k) => k.startsWith('GNU.sparse.'));
}

/** tar-stream gives an Invalid Date for a garbled time field: the epoch then. */
function validDate(d: Date | undefined): Date {
  return d && !Number.isNaN(d.getTime()) ? d : new Date(0);
}

/** Content, owner, mode and times of a new regular file, all through its own descriptor. */
async function writeRegular(target: string, body: Readable, uid: number, gid: number, mode: number, mtime: Date): Promise<void> {
  const fd = openSync(target, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    for await (const chunk of body) {
      const b = chunk as Buffer;
      for (let off = 0; off < b.byteLength; ) off += writeSync(fd, b, off, b.byteLength - off);
    }
    fchownSync(fd, uid, gid);
    fchmodSync(fd, mode);
    futimesSync(fd, mtime, mtime);
  } finally {
    closeSync(fd);
  }
}

/**
 * A hard link may only point at a regular file this layer chain holds: in this layer, a link
 * (shared inode); in a layer below, a copy with that file's metadata (overlay cannot link
 * across layers). The target's parents are resolved inside each layer; its last component
 * is not followed (a link to a symlink is a copy of the symlink, as link(2) would make).
 */
async function hardLink(s: LayerState, h: EntryHeader, target: string): Promise<void> {
  const src = cleanEntryName(h.linkname ?? '');
  if (src === '') throw refuse(h, 'is a hard link to the root directory');
  const slash = src.lastIndexOf('/');
  const dir = slash < 0 ? '' : src.slice(0, slash);
  const base = src.slice(slash + 1);
  for (const [i, layer] of [s.root, ...s.lowerDirs].entries()) {
    const path = join(await resolveInRoot(layer, dir, true), base);
    const st = lstatOrUndefined(path);
    if (!st) continue;
    if (isWhiteout(st)) break; // removed by this layer or one below it
    if (st.isSymbolicLink()) {
      symlinkSync(readlinkSync(path), target);
      lchownSync(target, st.uid, st.gid);
      lutimesSync(target, st.atime, st.mtime);
      return;
    }
    if (!st.isFile()) throw refuse(h, `is a hard link to ${JSON.stringify(h.linkname)}, which is not a regular file`);
    if (i === 0) {
      linkSync(path, target);
      return;
    }
    copyFileSync(path, target, constants.COPYFILE_EXCL);
    lchownSync(target, st.uid, st.gid);
    chmodSync(target, st.mode & 0o7777); // the copy just made
    lutimesSync(target, st.atime, st.mtime);
    return;
  }
  throw refuse(h, `is a hard link to ${JSON.stringify(h.linkname)}, which does not exist in the image`);
}

/**
 * The entry's extended attributes (PAX SCHILY.xattr.*), set on the entry itself. overlayfs's
 * own (trusted.overlay.*) are never taken from a layer: they steer how overlay looks up the
 * layers (redirects, origins, metacopy); an opaque directory is said by .wh..wh..opq.
 */
async function setPaxXattrs(h: EntryHeader, target: string): Promise<void> {
  for (const [k, v] of Object.entries(h.pax ?? {})) {
    if (!k.startsWith('SCHILY.xattr.')) continue;
    const name = k.slice('SCHILY.xattr.'.length);
    if (name.startsWith('trusted.overlay.')) continue;
    await setXattr(target, name, Buffer.from(v, 'latin1'));
  }
}
