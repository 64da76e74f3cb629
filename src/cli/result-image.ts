import { mkdir, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Store } from '../store/index.ts';
import { groupTops } from '../store/snapshots.ts';
import type { Ref } from '../solver/types.ts';
import type { ImageConfigFile } from '../frontend/api.ts';
import type { Digest } from '../util/digest.ts';
import { KilnError } from '../util/errors.ts';
import { createLayerBlob, recompressLayerBlob } from '../snapshot/pack.ts';
import { layerCompression } from '../oci/media-types.ts';
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
}

const compressionOf = (mediaType: string) => layerCompression(mediaType) ?? 'none';

/**
 * The image of a solved ref: one layer per snapshot in its chain (a group of snapshots, for
 * incremental COPY deltas: see layerGroups). A snapshot's default layer
 * blob (deterministic tar, gzip) is made once and recorded on it; other variants (zstd,
 * uncompressed, another level, clamped times) are recorded by their options. Layers pulled
 * from a registry keep their original blobs unless `force` asks for another compression.
 */
export async function imageOfRef(store: Store, ref: Ref, config: ImageConfigFile, created: Date, makeLayer: typeof createLayerBlob = createLayerBlob, opts: LayerOptions = {}): Promise<ExportImage> {
  if (ref.kind !== 'snapshot') throw new KilnError('the build result is a local directory, not an image', { kind: 'internal' });
  // One image layer per group: an incremental COPY's deltas squash into the layer they start from.
  const tops = groupTops(store.snapshots.chain(ref.id));
  // Every layer at once: the tar, compression and hashing run on the worker pool, which
  // bounds how many go at a time.
  const layers = await Promise.all(tops.map(async (rec): Promise<ExportLayer> => {
    const blob = await layerBlob(store, rec, makeLayer, opts);
    return {
      descriptor: { mediaType: blob.mediaType, digest: blob.digest, size: blob.size },
      diffId: blob.diffId,
      blobPath: store.content.path(blob.digest),
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
 * The blob of one image layer (the top snapshot of its group) with these options: the
 * snapshot's default blob (deterministic tar, gzip), made once and recorded on it, or a
 * recorded variant; a pulled layer keeps its blob unless `force` asks for another compression.
 */
export async function layerBlob(store: Store, rec: SnapshotRec, makeLayer: typeof createLayerBlob, opts: LayerOptions): Promise<Blob> {
  const compression = opts.compression ?? 'gzip';
  let blob = rec.blob;
  const pulled = rec.chainId !== null && rec.chainId !== undefined;
  const clamp = opts.rewriteTimestamp && opts.epoch !== undefined && !pulled ? opts.epoch : undefined;
  const current = blob ? compressionOf(blob.mediaType) : 'gzip';
  const wantsVariant = pulled ? !!opts.force && current !== compression : clamp !== undefined || opts.level !== undefined || current !== compression;
  if (wantsVariant && pulled && blob) return recompressed(store, blob, compression, opts.level);
  if (wantsVariant) return layerVariant(store, rec, { compression, level: opts.level, clampMtime: clamp }, makeLayer);
  if (blob && (await store.content.has(blob.digest))) return blob;
  await ensureUnpacked(store, rec.id);
  const tmp = store.content.ingestPath();
  const made = await makeLayer(store.snapshots.groupDirs(rec), tmp, { compression: 'gzip' });
  await store.content.adopt(tmp, made.digest);
  blob = { digest: made.digest, size: made.size, mediaType: made.mediaType, diffId: made.diffId };
  store.snapshots.setBlob(rec.id, blob);
  return blob;
}

/**
 * A layer blob made with non-default options, recorded under `key` (store.meta) so it is made
 * once; made again when the content store lost it (GC).
 */
async function recordedBlob(store: Store, key: string, make: (tmp: string) => Promise<Blob>): Promise<Blob> {
  const known = store.meta.get(key);
  if (known) {
    const b = JSON.parse(known) as Blob;
    if (await store.content.has(b.digest)) return b;
  }
  const tmp = store.content.ingestPath();
  const blob = await make(tmp);
  await store.content.adopt(tmp, blob.digest);
  store.meta.set(key, JSON.stringify(blob));
  return blob;
}

/** A pulled layer's blob in another compression (force-compression): same tar stream, same diff id. */
function recompressed(store: Store, blob: Blob, compression: 'gzip' | 'zstd' | 'none', level?: number): Promise<Blob> {
  return recordedBlob(store, `layer-recompressed:${blob.digest}:${compression}:${level ?? ''}`, async (tmp) => ({
    ...(await recompressLayerBlob(store.content.path(blob.digest), compressionOf(blob.mediaType), tmp, compression, level)),
    diffId: blob.diffId,
  }));
}

/** A layer blob of a snapshot made with non-default options (compression, level, clamped times). */
function layerVariant(store: Store, rec: SnapshotRec, o: { compression: 'gzip' | 'zstd' | 'none'; level?: number; clampMtime?: number }, makeLayer: typeof createLayerBlob): Promise<Blob> {
  return recordedBlob(store, `layer-variant:${rec.fsId ?? rec.id}:${o.compression}:${o.level ?? ''}:${o.clampMtime ?? ''}`, async (tmp) => {
    await ensureUnpacked(store, rec.id);
    const made = await makeLayer(store.snapshots.groupDirs(rec), tmp, o);
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
