import { mkdir, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Store } from '../store/index.ts';
import { groupTops } from '../store/snapshots.ts';
import type { Ref } from '../solver/types.ts';
import type { ImageConfigFile } from '../frontend/api.ts';
import type { Digest } from '../util/digest.ts';
import { KilnError } from '../util/errors.ts';
import { createLayerBlob, layerDiff, recompressLayerBlob, type LayerBlob, type LayerBlobOptions } from '../snapshot/pack.ts';
import { layerCompression, layerMediaType } from '../oci/media-types.ts';
import type { LayerDiff } from '../store/snapshots.ts';
import type { Member, ReusableMember } from '../snapshot/chunked-compress.ts';
import { mountOverlay, unmountPath } from '../snapshot/overlay.ts';
import { ensureUnpacked } from '../snapshot/unpack.ts';
import type { ExportImage, ExportLayer, RootfsView } from '../exporter/types.ts';
import type { ImageConfig } from '../oci/types.ts';

/** How the layers and config of an exported image are made (see image-options.ts). */
export interface LayerOptions {
  compression?: 'gzip' | 'zstd' | 'none';
  level?: number;
  /** Recompress blobs of another compression, pulled ones included. */
  force?: boolean;
  /** SOURCE_DATE_EPOCH (seconds): `created` of the config and the new history entries. */
  epoch?: number;
  /** Clamp file times newer than `epoch` in the layers this build made. */
  rewriteTimestamp?: boolean;
  annotations?: Record<string, string>;
  /**
   * The local image store's way: the layers this build made stay their snapshots, listed
   * uncompressed (digest = diff id, no blob written: see store/built-layers.ts); nothing is
   * compressed until an output asks. Pulled layers keep their blobs.
   */
  keep?: boolean;
}

/**
 * How layer tars are made: on the worker pool in a build (with a progress row per layer),
 * in this thread by default.
 */
export interface LayerWork {
  blob(dirs: string[], dest: string, opts: LayerBlobOptions, onBytes: (n: number) => void): Promise<LayerBlob>;
  diff(dirs: string[], opts: { clampMtime?: number }, onBytes: (n: number) => void): Promise<LayerDiff>;
  /** A progress row for one layer's work (`compressing layer 2/3`), told the tar bytes done. */
  row(name: string, total?: number): { add(n: number): void; done(): void };
}

export const inThreadLayerWork: LayerWork = {
  blob: (dirs, dest, opts, onBytes) => createLayerBlob(dirs, dest, { ...opts, onBytes }),
  diff: (dirs, opts, onBytes) => layerDiff(dirs, { ...opts, onBytes }),
  row: () => ({ add() {}, done() {} }),
};

const compressionOf = (mediaType: string) => layerCompression(mediaType) ?? 'none';

/**
 * The image of a solved ref: one layer per snapshot group in its chain (an incremental COPY's
 * deltas squash into the layer they start from: see layerGroups), each made by layerBlob.
 */
export async function imageOfRef(store: Store, ref: Ref, config: ImageConfigFile, created: Date, work: LayerWork = inThreadLayerWork, opts: LayerOptions = {}): Promise<ExportImage> {
  if (ref.kind !== 'snapshot') throw new KilnError('the build result is a local directory, not an image', { kind: 'internal' });
  const tops = groupTops(store.snapshots.chain(ref.id));
  // Every layer at once: the tar, compression and hashing run on the worker pool, which
  // bounds how many go at a time.
  const layers = await Promise.all(tops.map(async (rec, i): Promise<ExportLayer> => {
    const blob = await layerBlob(store, rec, work, opts, `layer ${i + 1}/${tops.length}`);
    return {
      descriptor: { mediaType: blob.mediaType, digest: blob.digest, size: blob.size },
      diffId: blob.diffId,
      blobPath: store.content.path(blob.digest),
      ...(blob.kept ? { kept: { snapshot: rec.id } } : {}),
    };
  }));
  const at = (opts.epoch !== undefined ? new Date(opts.epoch * 1000) : created).toISOString().replace('.000Z', 'Z');
  const history = (config.history ?? []).map((h) => (h.created ? h : { created: at, ...h }));
  const full = {
    ...config,
    created: at,
    rootfs: { type: 'layers' as const, diff_ids: layers.map((l) => l.diffId as Digest) },
    history,
  };
  const annotations = opts.annotations && Object.keys(opts.annotations).length ? opts.annotations : undefined;
  return { layers, config: full as unknown as ImageConfig, annotations };
}

type SnapshotRec = ReturnType<Store['snapshots']['chain']>[number];

type Blob = NonNullable<SnapshotRec['blob']>;

/**
 * The blob of one image layer (the top snapshot of its group) with these options:
 * - a pulled layer keeps its blob, unless `force` asks for another compression;
 * - `keep` (no clamped times): the layer as its snapshot, uncompressed, nothing written
 *   (`kept`: the blob is not in the content store);
 * - else a compressed blob, made once per (diff id, compression, level) and reused by every
 *   later export or push of the same layer (the default gzip one is also recorded on the
 *   snapshot, so it lives as long as the snapshot).
 * `what` names the layer in progress rows.
 */
export async function layerBlob(store: Store, rec: SnapshotRec, work: LayerWork, opts: LayerOptions, what = 'layer'): Promise<Blob & { kept?: true }> {
  const compression = opts.compression ?? 'gzip';
  const pulled = rec.chainId !== null && rec.chainId !== undefined;
  const clamp = opts.rewriteTimestamp && opts.epoch !== undefined && !pulled ? opts.epoch : undefined;
  if (pulled && rec.blob) {
    if (!opts.force || compressionOf(rec.blob.mediaType) === compression) return rec.blob;
    return recompressed(store, rec.blob, compression, opts.level, work, what);
  }
  if (clamp !== undefined) return layerVariant(store, rec, { compression, level: opts.level, clampMtime: clamp }, work, what);
  if (opts.keep) {
    const diff = await layerDiffOf(store, rec, work, what);
    return { digest: diff.diffId, size: diff.size, mediaType: layerMediaType('oci', 'none'), diffId: diff.diffId, kept: true };
  }
  const isDefault = compression === 'gzip' && opts.level === undefined;
  if (isDefault && rec.blob && (await store.content.has(rec.blob.digest))) return rec.blob;
  const diffId = rec.diff?.diffId ?? rec.blob?.diffId;
  const key = (d: Digest) => `layer-blob:${d}:${compression}:${opts.level ?? ''}`;
  const known = diffId ? await recordedBlobAt(store, key(diffId)) : undefined;
  if (known) {
    if (isDefault) store.snapshots.setBlob(rec.id, known);
    return known;
  }
  await ensureUnpacked(store, rec.id);
  const tmp = store.content.ingestPath();
  const reuse = compression === 'none' ? undefined : await earlierMembers(store, rec, (d) => key(d), isDefault);
  const made = await makeBlob(store, rec, tmp, { compression, level: opts.level, reuse }, work, `compressing ${what}`);
  await store.content.adopt(tmp, made.digest);
  const blob: Blob = { digest: made.digest, size: made.size, mediaType: made.mediaType, diffId: made.diffId };
  if (made.members) store.meta.set(`blob-members:${made.digest}`, JSON.stringify(made.members));
  store.meta.set(key(made.diffId), JSON.stringify(blob));
  store.snapshots.setDiff(rec.id, { diffId: made.diffId, size: made.uncompressedSize });
  if (isDefault) store.snapshots.setBlob(rec.id, blob);
  return blob;
}

/**
 * Members of the blobs (same compression and level) of the earlier versions of this layer:
 * for an incremental COPY, the layers its deltas started from (the group below `rec`). A
 * chunk of the new tar that one of them already holds is copied, not compressed again.
 */
async function earlierMembers(store: Store, rec: SnapshotRec, keyOf: (diffId: Digest) => string, isDefault: boolean): Promise<Record<string, ReusableMember> | undefined> {
  const out: Record<string, ReusableMember> = {};
  for (let cur = rec; cur.joinsParent && cur.parent; ) {
    const below = store.snapshots.get(cur.parent);
    if (!below) break;
    const diffId = below.diff?.diffId ?? below.blob?.diffId;
    const blob = (isDefault ? below.blob : undefined) ?? (diffId ? await recordedBlobAt(store, keyOf(diffId)) : undefined);
    const members = blob && (await store.content.has(blob.digest)) ? store.meta.get(`blob-members:${blob.digest}`) : undefined;
    if (members) {
      const path = store.content.path(blob!.digest);
      for (const m of JSON.parse(members) as Member[]) out[m.sha] ??= { path, offset: m.offset, length: m.length };
    }
    cur = below;
  }
  return Object.keys(out).length ? out : undefined;
}

/** The layer's diff id and tar size: recorded on the snapshot, or measured once (tar + sha256, nothing written). */
export async function layerDiffOf(store: Store, rec: SnapshotRec, work: LayerWork, what = 'layer'): Promise<LayerDiff> {
  if (rec.diff) return rec.diff;
  await ensureUnpacked(store, rec.id);
  const row = work.row(`hashing ${what}`);
  const diff = await work.diff(store.snapshots.groupDirs(rec), {}, (n) => row.add(n));
  row.done();
  store.snapshots.setDiff(rec.id, diff);
  return diff;
}

/** Packs (and compresses) the layer of `rec` into `dest`, shown as a progress row. */
async function makeBlob(store: Store, rec: SnapshotRec, dest: string, o: LayerBlobOptions, work: LayerWork, name: string): Promise<LayerBlob> {
  const row = work.row(name, rec.diff?.size);
  const made = await work.blob(store.snapshots.groupDirs(rec), dest, o, (n) => row.add(n));
  row.done();
  return made;
}

/** A blob recorded under `key` (store.meta), if the content store still has it (GC may have taken it). */
async function recordedBlobAt(store: Store, key: string): Promise<Blob | undefined> {
  const known = store.meta.get(key);
  if (!known) return undefined;
  const b = JSON.parse(known) as Blob;
  return (await store.content.has(b.digest)) ? b : undefined;
}

/**
 * A layer blob made with non-default options, recorded under `key` (store.meta) so it is made
 * once; made again when the content store lost it (GC).
 */
async function recordedBlob(store: Store, key: string, make: (tmp: string) => Promise<Blob>): Promise<Blob> {
  const known = await recordedBlobAt(store, key);
  if (known) return known;
  const tmp = store.content.ingestPath();
  const blob = await make(tmp);
  await store.content.adopt(tmp, blob.digest);
  store.meta.set(key, JSON.stringify(blob));
  return blob;
}

/** A pulled layer's blob in another compression (force-compression): same tar stream, same diff id. */
function recompressed(store: Store, blob: Blob, compression: 'gzip' | 'zstd' | 'none', level: number | undefined, work: LayerWork, what: string): Promise<Blob> {
  return recordedBlob(store, `layer-blob:${blob.diffId}:${compression}:${level ?? ''}`, async (tmp) => {
    const row = work.row(`recompressing ${what}`);
    const made = await recompressLayerBlob(store.content.path(blob.digest), compressionOf(blob.mediaType), tmp, compression, level, (n) => row.add(n));
    row.done();
    return { ...made, diffId: blob.diffId };
  });
}

/** A layer blob of a snapshot made with non-default options (compression, level, clamped times). */
function layerVariant(store: Store, rec: SnapshotRec, o: { compression: 'gzip' | 'zstd' | 'none'; level?: number; clampMtime?: number }, work: LayerWork, what: string): Promise<Blob> {
  return recordedBlob(store, `layer-variant:${rec.fsId ?? rec.id}:${o.compression}:${o.level ?? ''}:${o.clampMtime ?? ''}`, async (tmp) => {
    await ensureUnpacked(store, rec.id);
    const made = await makeBlob(store, rec, tmp, o, work, `compressing ${what}`);
    return { digest: made.digest, size: made.size, mediaType: made.mediaType, diffId: made.diffId };
  });
}

/** A read-only mounted view of a snapshot chain; release() unmounts and removes it. */
export async function openRootfsView(store: Store, ref: Ref): Promise<RootfsView> {
  if (ref.kind === 'local') return { dir: ref.dir, release: async () => {} };
  const target = join(store.layout.run, `${process.pid}-view-${randomBytes(6).toString('hex')}`);
  await mkdir(target, { recursive: true });
  await ensureUnpacked(store, ref.id);
  const lowers = ref.id ? store.snapshots.layerDirs(ref.id) : [];
  if (lowers.length === 0) return { dir: target, release: () => rmdir(target) };
  await mountOverlay({ lowerDirs: lowers, target, readonly: true });
  return {
    dir: target,
    async release() {
      await unmountPath(target);
      await rmdir(target);
    },
  };
}
