/**
 * Deterministic tars of directory trees: layer blobs (overlay upper dirs, whiteouts
 * converted to `.wh.` entries) and root file systems. Same tree → same bytes: entries in
 * lexical order with each directory before its contents, numeric owners, empty user and
 * group names, whole-second mtimes, no atime/ctime, hard links as link entries.
 */
import { closeSync, constants as fsConstants, createReadStream, createWriteStream, openSync, type Stats } from 'node:fs';
import { readlink, rename, rm } from 'node:fs/promises';
import { allLayers, mergedEntries } from './merged-layers.ts';
import { PassThrough, Transform, Writable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { once } from 'node:events';
import { createChunkedCompressor, type Member, type ReusableMember } from './chunked-compress.ts';
import { TarWriter, type TarHeader } from './tar-writer.ts';
import { createDigester, type Digest } from '../util/digest.ts';
import { tempName } from '../util/fs.ts';
import { treeXattrs } from '../platform/linux-fs.ts';
import { layerMediaType } from '../oci/media-types.ts';
import { decompressor, type Compression } from '../oci/decompress.ts';
import { tap } from '../util/tap.ts';

type Headers = Partial<TarHeader> & { name: string };

export type PackMode = 'layer' | 'rootfs';

const OPAQUE = 'trusted.overlay.opaque';

/** Whether an xattr belongs in a layer (overlay's own bookkeeping never does). */
const keepXattr = (name: string) => !name.startsWith('trusted.overlay.');

function isWhiteout(st: Stats): boolean {
  return st.isCharacterDevice() && st.rdev === 0;
}

/** Whole seconds; with `clamp` (SOURCE_DATE_EPOCH, rewrite-timestamp), never later than it. */
function mtimeOf(st: Stats, clamp?: number): Date {
  const s = Math.floor(st.mtimeMs / 1000);
  return new Date((clamp !== undefined && s > clamp ? clamp : s) * 1000);
}

function header(name: string, st: Stats, clamp?: number): Headers {
  return { name, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, uname: '', gname: '', mtime: mtimeOf(st, clamp) };
}

const NOFOLLOW_READ = fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW;

/** Adds one entry; a file's body is read through an O_NOFOLLOW descriptor (never a symlink put in its place). */
async function addEntry(w: TarWriter, h: Headers, file?: string): Promise<void> {
  const entry: TarHeader = { mode: 0, uid: 0, gid: 0, size: 0, mtime: new Date(0), type: 'file', ...h } as TarHeader;
  if (!file) return w.add(entry);
  const fd = openSync(file, NOFOLLOW_READ);
  try {
    await w.add(entry, fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes the tar of the tree under `dir` to `out` (ended when done). The root itself is not an
 * entry. A layer may be a group of directories (top first) packed as one squashed layer (see
 * merged-layers.ts).
 */
export function packDirectory(
  dir: string | string[],
  out: Writable | NodeJS.WritableStream,
  opts: { mode: PackMode; clampMtime?: number; /** Files added after the tree (e.g. provenance.json). */ extra?: { name: string; bytes: Uint8Array }[] },
): Promise<void> {
  return packTrees([{ dir, prefix: '' }], out, opts);
}

/** A tree of packTrees: its directory (or layer group) and the directory it goes under in the tar ('' for the top). */
export interface PackTree {
  dir: string | string[];
  prefix: string;
}

/**
 * packDirectory of several trees into one tar, each under its prefix directory (a directory
 * per platform in a multi-platform build's tar output), in the order given.
 */
export async function packTrees(
  trees: PackTree[],
  out: Writable | NodeJS.WritableStream,
  opts: { mode: PackMode; clampMtime?: number; extra?: { name: string; bytes: Uint8Array }[] },
): Promise<void> {
  const baseHeader = (name: string, st: Stats) => header(name, st, opts.clampMtime);
  const xattrs = await treeXattrs(trees.flatMap((t) => (typeof t.dir === 'string' ? [t.dir] : t.dir)));
  const isOpaque = (abs: string) => {
    const v = xattrs(abs)?.get(OPAQUE);
    return !!v && Buffer.from(v).toString() === 'y';
  };
  const links = new Map<string, string>();
  const sink = out as Writable;
  const p = new TarWriter(async (chunk) => {
    if (!sink.write(chunk)) await once(sink, 'drain');
  });

  const walk = async (dirs: string[], pre: string, rel: string, layers: number[]): Promise<void> => {
    for (const e of mergedEntries(dirs, rel, layers, isOpaque)) {
      const { abs, st, name: n } = e;
      const r = pre + e.rel;
      const attrs = xattrs(abs);
      const pax: Record<string, string> = {};
      for (const [k, v] of [...(attrs ?? new Map())].sort(([a], [b]) => (a < b ? -1 : 1))) {
        if (keepXattr(k)) pax[`SCHILY.xattr.${k}`] = Buffer.from(v).toString('latin1');
      }
      const h = baseHeader(r, st);
      if (Object.keys(pax).length) h.pax = pax;
      if (opts.mode === 'layer' && isWhiteout(st)) {
        await addEntry(p, { ...baseHeader(`${pre}${rel ? `${rel}/` : ''}.wh.${n}`, st), mode: 0, type: 'file', size: 0 });
        continue;
      }
      if (st.isDirectory()) {
        await addEntry(p, { ...h, name: `${r}/`, type: 'directory' });
        if (opts.mode === 'layer' && e.opaque) {
          await addEntry(p, { ...baseHeader(`${r}/.wh..wh..opq`, st), mode: 0, type: 'file', size: 0 });
        }
        await walk(dirs, pre, e.rel, e.layers!);
      } else if (st.isSymbolicLink()) {
        await addEntry(p, { ...h, type: 'symlink', linkname: await readlink(abs) });
      } else if (st.isFile()) {
        const key = `${st.dev}:${st.ino}`;
        const first = st.nlink > 1 ? links.get(key) : undefined;
        if (first) {
          await addEntry(p, { ...h, type: 'link', linkname: first, size: 0 });
          continue;
        }
        if (st.nlink > 1) links.set(key, r);
        await addEntry(p, { ...h, type: 'file', size: st.size }, abs);
      } else if (st.isCharacterDevice() || st.isBlockDevice()) {
        await addEntry(p, {
          ...h,
          type: st.isCharacterDevice() ? 'character-device' : 'block-device',
          devmajor: (st.rdev >>> 8) & 0xfff,
          devminor: (st.rdev & 0xff) | ((st.rdev >>> 12) & 0xfff00),
        });
      } else if (st.isFIFO()) {
        await addEntry(p, { ...h, type: 'fifo' });
      }
      // Sockets are not part of images (as in BuildKit): skipped.
    }
  };
  try {
    for (const t of trees) {
      const dirs = typeof t.dir === 'string' ? [t.dir] : t.dir;
      if (t.prefix) await addEntry(p, { name: `${t.prefix}/`, type: 'directory', mode: 0o755, uid: 0, gid: 0, uname: '', gname: '', mtime: new Date(0) });
      await walk(dirs, t.prefix ? `${t.prefix}/` : '', '', allLayers(dirs.length));
    }
    for (const e of opts.extra ?? []) {
      await p.add({ name: e.name, type: 'file', size: e.bytes.byteLength, mode: 0o644, uid: 0, gid: 0, uname: '', gname: '', mtime: new Date(0) }, e.bytes);
    }
    await p.finish();
  } catch (err) {
    sink.destroy(err as Error);
    throw err;
  }
  sink.end();
  await finished(sink);
}

export interface LayerBlobOptions {
  compression?: 'gzip' | 'zstd' | 'none';
  level?: number;
  clampMtime?: number;
  /** Told the bytes of tar packed so far, chunk by chunk (progress; not passed across threads). */
  onBytes?: (n: number) => void;
  /** Members of earlier blobs with this compression and level, by the sha256 of their bytes (chunked-compress.ts). */
  reuse?: Record<string, ReusableMember>;
}

/**
 * The diff id and size of the layer `dir` (or a group of layer dirs, top first) would have,
 * without writing it anywhere: the tar is packed and hashed, nothing more.
 */
export async function layerDiff(dir: string | string[], opts: Pick<LayerBlobOptions, 'clampMtime' | 'onBytes'> = {}): Promise<{ diffId: Digest; size: number }> {
  const hash = createDigester();
  const onBytes = opts.onBytes ?? (() => {});
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      onBytes(chunk.byteLength);
      cb();
    },
  });
  await packDirectory(dir, sink, { mode: 'layer', clampMtime: opts.clampMtime });
  return { diffId: hash.digest(), size: hash.size };
}

export interface LayerBlob {
  digest: Digest;
  size: number;
  diffId: Digest;
  uncompressedSize: number;
  mediaType: string;
  /** The gzip members or zstd frames of a compressed blob (chunked-compress.ts). */
  members?: Member[];
}

/**
 * Packs `dir` (or a group of layer dirs, top first) as a layer into `destPath`: the diff id (sha256 of the tar) and the blob
 * digest (of the compressed bytes) computed in the same streaming pass. Written to a temp
 * name and renamed, so `destPath` is either absent or complete.
 */
export async function createLayerBlob(
  dir: string | string[],
  destPath: string,
  opts: LayerBlobOptions = {},
): Promise<LayerBlob> {
  const compression = opts.compression ?? 'gzip';
  const tarHash = createDigester();
  const blobHash = createDigester();
  const tmp = tempName(destPath);
  const tarStream = new PassThrough();
  const compressor = createCompressor(compression, opts.level, opts.reuse);
  const onBytes = opts.onBytes ?? (() => {});
  try {
    await Promise.all([
      packDirectory(dir, tarStream, { mode: 'layer', clampMtime: opts.clampMtime }),
      pipeline(tarStream, tap((c) => (tarHash.update(c), onBytes(c.byteLength))), compressor, tap((c) => blobHash.update(c)), createWriteStream(tmp)),
    ]);
    await rename(tmp, destPath);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  return {
    digest: blobHash.digest(),
    size: blobHash.size,
    diffId: tarHash.digest(),
    uncompressedSize: tarHash.size,
    mediaType: layerMediaType('oci', compression),
    members: compressor.members?.(),
  };
}

/**
 * The compressing stream of a layer blob: gzip members or zstd frames on every core, reusing
 * members of earlier blobs (chunked-compress.ts), or none.
 */
export function createCompressor(compression: Compression, level?: number, reuse?: Record<string, ReusableMember>): Transform & { members?(): Member[] } {
  if (compression === 'none') return new PassThrough();
  return createChunkedCompressor({ compression, level, reuse: reuse ? new Map(Object.entries(reuse)) : undefined });
}

/**
 * A layer blob in another compression, from `src` (compressed with `from`) to `destPath`: the
 * same tar stream, so the diff id stays the same (force-compression of pulled layers).
 */
export async function recompressLayerBlob(src: string, from: Compression, destPath: string, to: Compression, level?: number, onBytes: (n: number) => void = () => {}): Promise<{ digest: Digest; size: number; mediaType: string }> {
  const hash = createDigester();
  const tmp = tempName(destPath);
  try {
    await pipeline(createReadStream(src), decompressor(from), tap((c) => onBytes(c.byteLength)), createCompressor(to, level), tap((c) => hash.update(c)), createWriteStream(tmp));
    await rename(tmp, destPath);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  return { digest: hash.digest(), size: hash.size, mediaType: layerMediaType('oci', to) };
}
