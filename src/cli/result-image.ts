import { mkdir, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Store } from '../store/index.ts';
import type { Ref } from '../solver/types.ts';
import type { ImageConfigFile } from '../frontend/api.ts';
import type { Digest } from '../util/digest.ts';
import { KilnError } from '../util/errors.ts';
import { createLayerBlob } from '../snapshot/pack.ts';
import { mountOverlay, unmountPath } from '../snapshot/overlay.ts';
import type { ExportImage, ExportLayer, RootfsView } from '../exporter/types.ts';
import type { ImageConfig } from '../oci/types.ts';

/**
 * The image of a solved ref: one layer per snapshot in its chain. A snapshot's layer blob
 * is made once (deterministic tar, gzip) and recorded; image layers pulled from a
 * registry keep their original blobs.
 */
export async function imageOfRef(store: Store, ref: Ref, config: ImageConfigFile, created: Date, makeLayer: typeof createLayerBlob = createLayerBlob): Promise<ExportImage> {
  if (ref.kind !== 'snapshot') throw new KilnError('the build result is a local directory, not an image', { kind: 'internal' });
  const chain = store.snapshots.chain(ref.id);
  const layers: ExportLayer[] = [];
  for (const rec of chain) {
    let blob = rec.blob;
    if (!blob || !(await store.content.has(blob.digest))) {
      const tmp = store.content.ingestPath();
      const made = await makeLayer(store.snapshots.layerDir(rec), tmp, { compression: 'gzip' });
      await store.content.adopt(tmp, made.digest);
      blob = { digest: made.digest, size: made.size, mediaType: made.mediaType, diffId: made.diffId };
      store.snapshots.setBlob(rec.id, blob);
    }
    layers.push({
      descriptor: { mediaType: blob.mediaType, digest: blob.digest, size: blob.size },
      diffId: blob.diffId,
      blobPath: store.content.path(blob.digest),
    });
  }
  const at = created.toISOString();
  const history = (config.history ?? []).map((h) => (h.created ? h : { created: at, ...h }));
  const full = {
    ...config,
    created: at,
    rootfs: { type: 'layers' as const, diff_ids: layers.map((l) => l.diffId as Digest) },
    history,
  };
  return { layers, config: full as unknown as ImageConfig };
}

/** A read-only mounted view of a snapshot chain; release() unmounts and removes it. */
export async function openRootfsView(store: Store, ref: Ref): Promise<RootfsView> {
  if (ref.kind === 'local') return { dir: ref.dir, release: async () => {} };
  const target = join(store.layout.run, `${process.pid}-view-${randomBytes(6).toString('hex')}`);
  await mkdir(target, { recursive: true });
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
