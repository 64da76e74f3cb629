/**
 * Extracts one layer into an empty directory in overlay format: `.wh.NAME` becomes a
 * whiteout (char device 0:0), `.wh..wh..opq` marks its directory opaque
 * (trusted.overlay.opaque=y). Hardened: no entry is ever written outside the directory —
 * names are cleaned, a path through a symlink is refused, hard links must point inside.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, copyFile, link, lstat, lutimes, mkdir, lchown, rm, symlink, utimes } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { PassThrough, type Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import { extract, type Header } from 'tar-stream';

type Headers = Partial<Header> & { name: string; pax?: Record<string, string> };
import { KilnError } from '../util/errors.ts';
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

/** Refuses a path whose parent chain (inside `root`) holds a symlink or a non-directory. */
async function ensureParents(root: string, rel: string): Promise<void> {
  const parts = rel.split('/').slice(0, -1);
  let cur = root;
  for (const p of parts) {
    cur = join(cur, p);
    const st = await lstat(cur).catch(() => undefined);
    if (!st) {
      await mkdir(cur, { mode: 0o755 });
      continue;
    }
    if (st.isSymbolicLink()) throw new KilnError(`layer entry escapes the root through the symlink ${JSON.stringify(rel)}`, { kind: 'input' });
    if (!st.isDirectory()) throw new KilnError(`layer entry ${JSON.stringify(rel)} is under a non-directory`, { kind: 'input' });
  }
}

async function findInLowers(lowerDirs: string[], rel: string): Promise<string | undefined> {
  for (const l of lowerDirs) {
    const p = join(l, rel);
    const st = await lstat(p).catch(() => undefined);
    if (st?.isFile()) return p;
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

/** Extracts an uncompressed layer tar into `dir` (empty) as an overlay layer. */
export async function applyLayer(tar: NodeJS.ReadableStream, dir: string, opts: { lowerDirs?: string[] } = {}): Promise<{ entries: number }> {
  const lowerDirs = opts.lowerDirs ?? [];
  const dirTimes: { path: string; mtime: Date }[] = [];
  let entries = 0;
  const ex = extract();
  const done = (async () => {
    for await (const entry of ex) {
      const h = entry.header as Headers;
      try {
        await applyEntry(h, entry as unknown as Readable, dir, lowerDirs, dirTimes);
        entries++;
      } finally {
        entry.resume();
      }
    }
  })();
  await Promise.all([pipeline(tar as Readable, ex as unknown as NodeJS.WritableStream), done]);
  // Directory times last: writing their children changed them.
  for (const d of dirTimes.reverse()) await utimes(d.path, d.mtime, d.mtime);
  return { entries };
}

async function applyEntry(h: Headers, body: Readable, root: string, lowerDirs: string[], dirTimes: { path: string; mtime: Date }[]): Promise<void> {
  const rel = cleanEntryName(h.name);
  if (rel === '') {
    if (h.type === 'directory') dirTimes.push({ path: root, mtime: h.mtime ?? new Date(0) });
    return;
  }
  const base = rel.slice(rel.lastIndexOf('/') + 1);
  await ensureParents(root, rel);
  const target = join(root, rel);
  if (base === OPQ) {
    await setXattr(dirname(target), 'trusted.overlay.opaque', Buffer.from('y'));
    return;
  }
  if (base.startsWith(WH)) {
    const victim = join(dirname(target), base.slice(WH.length));
    await rm(victim, { recursive: true, force: true });
    await mknod(victim, 'c', 0, 0, 0);
    return;
  }
  const existing = await lstat(target).catch(() => undefined);
  if (existing && !(existing.isDirectory() && h.type === 'directory')) await rm(target, { recursive: true, force: true });
  const mode = (h.mode ?? 0o644) & 0o7777;
  switch (h.type) {
    case 'directory':
      if (!existing?.isDirectory()) await mkdir(target, { mode: 0o755 });
      break;
    case 'file':
    case 'contiguous-file':
      await pipeline(body, createWriteStream(target, { mode: 0o600 }));
      break;
    case 'symlink':
      await symlink(h.linkname ?? '', target);
      break;
    case 'link': {
      const src = cleanEntryName(h.linkname ?? '');
      const inLayer = join(root, src);
      const st = await lstat(inLayer).catch(() => undefined);
      if (st && !st.isDirectory() && !st.isSymbolicLink()) {
        await link(inLayer, target);
        return; // a hard link shares the inode: owner, mode and times are the target's
      }
      const lower = await findInLowers(lowerDirs, src);
      if (!lower) throw new KilnError(`layer hard link ${JSON.stringify(h.name)} points to ${JSON.stringify(h.linkname)}, which does not exist`, { kind: 'input' });
      await copyFile(lower, target);
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
  await lchown(target, h.uid ?? 0, h.gid ?? 0);
  if (h.type !== 'symlink') await chmod(target, mode);
  for (const [k, v] of Object.entries(h.pax ?? {})) {
    if (k.startsWith('SCHILY.xattr.')) await setXattr(target, k.slice('SCHILY.xattr.'.length), Buffer.from(v, 'latin1'));
  }
  const mtime = h.mtime ?? new Date(0);
  if (h.type === 'directory') dirTimes.push({ path: target, mtime });
  else await lutimes(target, mtime, mtime);
}
