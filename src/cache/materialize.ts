import type { Store } from '../store/index.ts';
import { applyLayerBlobDiffId } from '../snapshot/apply-layer.ts';
import { chainIdsOf } from '../oci/chain-id.ts';
import { KilnError } from '../util/errors.ts';
import type { CacheLayer } from './format.ts';

/**
 * The snapshot of a layer chain from a cache (null for an empty chain): one snapshot per
 * layer, keyed by chain id, so layers the store already has (a base image pulled, an earlier
 * import) are reused and the rest downloaded (`fetch` puts a verified blob into the content
 * store), concurrently, and applied in order. Each layer's uncompressed digest is checked
 * while it is applied: a blob that is not what the record says is never committed.
 */
export async function materializeChain(store: Store, layers: CacheLayer[], fetch: (layer: CacheLayer) => Promise<void>, signal: AbortSignal): Promise<string | null> {
  const chainIds = chainIdsOf(layers.map((l) => l.diffId));
  const blobs = layers.map(async (l, i) => {
    if (store.snapshots.byChainId(chainIds[i]!) || (await store.content.has(l.digest))) return;
    await fetch(l);
  });
  blobs.forEach((b) => b.catch(() => {}));
  let parent: string | null = null;
  for (let i = 0; i < layers.length; i++) {
    const existing = store.snapshots.byChainId(chainIds[i]!);
    if (existing) {
      parent = existing.id;
      continue;
    }
    await blobs[i];
    if (signal.aborted) throw new KilnError('build canceled', { kind: 'canceled' });
    const l = layers[i]!;
    const active = await store.snapshots.prepare();
    try {
      const { diffId } = await applyLayerBlobDiffId(store.content.path(l.digest), l.mediaType, active.fs, { lowerDirs: parent ? store.snapshots.layerDirs(parent) : [] });
      if (diffId !== l.diffId) throw new KilnError(`layer ${l.digest} unpacks to ${diffId}, not ${l.diffId}`, { kind: 'input' });
    } catch (err) {
      await store.snapshots.discard(active);
      throw err;
    }
    const rec = await store.snapshots.commit(active, { parent, chainId: chainIds[i], blob: { digest: l.digest, size: l.size, mediaType: l.mediaType, diffId: l.diffId } });
    parent = rec.id;
  }
  return parent;
}
