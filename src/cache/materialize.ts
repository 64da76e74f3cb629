import type { Store } from '../store/index.ts';
import { chainIdsOf } from '../oci/chain-id.ts';
import { brokenLayerKey } from '../snapshot/unpack.ts';
import { KilnError } from '../util/errors.ts';
import type { CacheLayer } from './format.ts';

/**
 * The snapshot of a layer chain from a cache (null for an empty chain): one snapshot per
 * layer, keyed by chain id, so layers the store already has (a base image pulled, an earlier
 * import) are reused; the others' blobs are downloaded concurrently (`fetch` puts a blob
 * into the content store, verified against its digest) and recorded as lazy snapshots: they
 * are extracted only when something reads their files (snapshot/unpack.ts, which checks each
 * layer against the uncompressed digest the record gives), never for an image export, which
 * needs the blobs alone.
 */
export async function materializeChain(store: Store, layers: CacheLayer[], fetch: (layer: CacheLayer) => Promise<void>, signal: AbortSignal): Promise<string | null> {
  const chainIds = chainIdsOf(layers.map((l) => l.diffId));
  const broken = chainIds.findIndex((c) => store.meta.get(brokenLayerKey(c)));
  if (broken >= 0) throw new KilnError(`layer ${layers[broken]!.digest} was found not to be what its record says (${store.meta.get(brokenLayerKey(chainIds[broken]!))})`, { kind: 'input' });
  const ready = layers.map(async (l, i) => {
    if (!store.snapshots.byChainId(chainIds[i]!) && !(await store.content.has(l.digest))) await fetch(l);
  });
  ready.forEach((b) => b.catch(() => {}));
  let parent: string | null = null;
  for (let i = 0; i < layers.length; i++) {
    const existing = store.snapshots.byChainId(chainIds[i]!);
    if (existing) {
      parent = existing.id;
      continue;
    }
    await ready[i];
    if (signal.aborted) throw new KilnError('build canceled', { kind: 'canceled' });
    const l = layers[i]!;
    parent = store.snapshots.commitLazy({ parent, chainId: chainIds[i]!, blob: { digest: l.digest, size: l.size, mediaType: l.mediaType, diffId: l.diffId } }).id;
  }
  return parent;
}
