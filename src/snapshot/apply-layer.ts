/**
 * Extracts one layer into an empty directory in overlay format: `.wh.NAME` becomes a
 * whiteout (char device 0:0), `.wh..wh..opq` marks its directory opaque
 * (trusted.overlay.opaque=y). Hardened: no entry is ever written outside the directory —
 * names are cleaned, a path through a symlink is refused, hard links must point inside.
 */
import {
  chmodSync, closeSync, copyFileSync, createReadStream, fchmodSync, fchownSync, futimesSync, lchownSync, linkSync, lstatSync,
  lutimesSync, mkdirSync, openSync, rmSync, symlinkSync, utimesSync, writeSync, type Stats,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { PassThrough, type Readable } from 'node:stream';
import { tap } from '../util/tap.ts';
import * as zlib from 'node:zlib';
import { extract, type Header } from 'tar-stream';

type Headers = Partial<Header> & { name: string; pax?: Record<string, string> };
import { KilnError } from '../util/errors.ts';
import { createDigester, type Digest } from '../util/digest.ts';
import { mknod, setXattr } from '../platform/linux-fs.ts';
import { layerCompression } from '../oci/media-types.ts';

const WH = '.wh.';
const OPQ = '.wh..wh..opq';

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

/**
 * Refuses a path whose parent chain (inside `root`) holds a symlink or a non-directory, and
 * makes missing parents. `known` holds directories already checked in this layer; an entry
 * that replaces or removes a path clears it (a checked directory may have become a symlink).
 */
function ensureParents(root: string, rel: string, known: Set<string>): void {
  const parts = rel.split('/').slice(0, -1);
  let cur = root;
  for (const p of parts) {
    cur = join(cur, p);
    if (known.has(cur)) continue;
    const st = lstatOrUndefined(cur);
    if (!st) mkdirSync(cur, { mode: 0o755 });
    else if (st.isSymbolicLink()) throw new KilnError(`layer entry escapes the root through the symlink ${JSON.stringify(rel)}`, { kind: 'input' });
    else if (!st.isDirectory()) throw new KilnError(`layer entry ${JSON.stringify(rel)} is under a non-directory`, { kind: 'input' });
    known.add(cur);
  }
}

function lstatOrUndefined(path: string): Stats | undefined {
  return lstatSync(path, { throwIfNoEntry: false });
}

function findInLowers(lowerDirs: string[], rel: string): string | undefined {
  for (const l of lowerDirs) {
    const p = join(l, rel);
    if (lstatOrUndefined(p)?.isFile()) return p;
  }
  return undefined;
}

function decompressor(mediaType: string) {
  const c = layerCompression(mediaType);
  if (c === 'gzip') return zlib.createGunzip();
  if (c === 'zstd') return (zlib as unknown as { createZstdDecompress: () => PassThrough }).createZstdDecompress();
  return new PassThrough();
}

/** A decompressing stream for a layer of `mediaType` (gzip, zstd or plain tar). */
export function decompressLayer(stream: NodeJS.ReadableStream, mediaType: string): Readable {
  const d = decompressor(mediaType);
  (stream as Readable).pipe(d);
  (stream as Readable).on('error', (e) => d.destroy(e));
  return d;
}

export async function applyLayerBlob(blobPath: string, mediaType: string, dir: string, opts: { lowerDirs?: string[] } = {}) {
  return applyLayer(decompressLayer(createReadStream(blobPath), mediaType), dir, opts);
}

/**
 * applyLayerBlob that also returns the digest of the uncompressed tar (the layer's diff id),
 * for callers that must check a layer against what a record says of it.
 */
export async function applyLayerBlobDiffId(blobPath: string, mediaType: string, dir: string, opts: { lowerDirs?: string[] } = {}): Promise<{ entries: number; diffId: Digest }> {
  const digester = createDigester();
  const tar = decompressLayer(createReadStream(blobPath), mediaType);
  const hashed = tar.pipe(tap((chunk) => digester.update(chunk)));
  tar.on('error', (e) => hashed.destroy(e));
  const r = await applyLayer(hashed, dir, opts);
  return { entries: r.entries, diffId: digester.digest() };
}

/**
 * Extracts an uncompressed layer tar into `dir` (empty) as an overlay layer. File system calls
 * are synchronous (one entry is a handful of them: far cheaper than a thread-pool round trip
 * each); run it on a worker thread (the pool's applyLayer task) to keep the main thread free.
 */
export async function applyLayer(tar: NodeJS.ReadableStream, dir: string, opts: { lowerDirs?: string[] } = {}): Promise<{ entries: number }> {
  const lowerDirs = opts.lowerDirs ?? [];
  const dirTimes: { path: string; mtime: Date }[] = [];
  const known = new Set<string>();
  let entries = 0;
  const ex = extract();
  const done = (async () => {
    for await (const entry of ex) {
      const h = entry.header as Headers;
      try {
        await applyEntry(h, entry as unknown as Readable, dir, lowerDirs, dirTimes, known);
        entries++;
      } finally {
        entry.resume();
      }
    }
  })();
  await Promise.all([pipeline(tar as Readable, ex as unknown as NodeJS.WritableStream), done]);
  // Directory times last: writing their children changed them.
  for (const d of dirTimes.reverse()) utimesSync(d.path, d.mtime, d.mtime);
  return { entries };
}

async function applyEntry(h: Headers, body: Readable, root: string, lowerDirs: string[], dirTimes: { path: string; mtime: Date }[], known: Set<string>): Promise<void> {
  const rel = cleanEntryName(h.name);
  if (rel === '') {
    if (h.type === 'directory') dirTimes.push({ path: root, mtime: h.mtime ?? new Date(0) });
    return;
  }
  const base = rel.slice(rel.lastIndexOf('/') + 1);
  ensureParents(root, rel, known);
  const target = join(root, rel);
  if (base === OPQ) {
    await setXattr(dirname(target), 'trusted.overlay.opaque', Buffer.from('y'));
    return;
  }
  if (base.startsWith(WH)) {
    const victim = join(dirname(target), base.slice(WH.length));
    rmSync(victim, { recursive: true, force: true });
    known.clear();
    await mknod(victim, 'c', 0, 0, 0);
    return;
  }
  const existing = lstatOrUndefined(target);
  if (existing && !(existing.isDirectory() && h.type === 'directory')) {
    rmSync(target, { recursive: true, force: true });
    known.clear();
  }
  const mode = (h.mode ?? 0o644) & 0o7777;
  const mtime = h.mtime ?? new Date(0);
  switch (h.type) {
    case 'directory':
      if (!existing?.isDirectory()) mkdirSync(target, { mode: 0o755 });
      break;
    case 'file':
    case 'contiguous-file': {
      // Owner, mode and times through the open descriptor; then the xattrs by path.
      const fd = openSync(target, 'w', 0o600);
      try {
        for await (const chunk of body) {
          const b = chunk as Buffer;
          for (let off = 0; off < b.byteLength; ) off += writeSync(fd, b, off, b.byteLength - off);
        }
        fchownSync(fd, h.uid ?? 0, h.gid ?? 0);
        fchmodSync(fd, mode);
        futimesSync(fd, mtime, mtime);
      } finally {
        closeSync(fd);
      }
      await setPaxXattrs(h, target);
      return;
    }
    case 'symlink':
      symlinkSync(h.linkname ?? '', target);
      break;
    case 'link': {
      const src = cleanEntryName(h.linkname ?? '');
      const inLayer = join(root, src);
      const st = lstatOrUndefined(inLayer);
      if (st && !st.isDirectory() && !st.isSymbolicLink()) {
        linkSync(inLayer, target);
        return; // a hard link shares the inode: owner, mode and times are the target's
      }
      const lower = findInLowers(lowerDirs, src);
      if (!lower) throw new KilnError(`layer hard link ${JSON.stringify(h.name)} points to ${JSON.stringify(h.linkname)}, which does not exist`, { kind: 'input' });
      copyFileSync(lower, target);
      break;
    }
    case 'character-device':
    case 'block-device':
      await mknod(target, h.type === 'character-device' ? 'c' : 'b', h.devmajor ?? 0, h.devminor ?? 0, mode);
      break;
    case 'fifo':
      await mknod(target, 'p', 0, 0, mode);
      break;
    default:
      return; // pax headers and unknown types carry no file
  }
  lchownSync(target, h.uid ?? 0, h.gid ?? 0);
  if (h.type !== 'symlink') chmodSync(target, mode);
  await setPaxXattrs(h, target);
  if (h.type === 'directory') dirTimes.push({ path: target, mtime });
  else lutimesSync(target, mtime, mtime);
}

async function setPaxXattrs(h: Headers, target: string): Promise<void> {
  for (const [k, v] of Object.entries(h.pax ?? {})) {
    if (k.startsWith('SCHILY.xattr.')) await setXattr(target, k.slice('SCHILY.xattr.'.length), Buffer.from(v, 'latin1'));
  }
}
