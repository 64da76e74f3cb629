import type { Platform } from '../oci/types.ts';
import type { Digest } from '../util/digest.ts';
import { chainIdsOf } from '../oci/chain-id.ts';
import { KilnError } from '../util/errors.ts';
import type { Store } from '../store/index.ts';
import type { SourceContext, SourceFactory, SourceInstance, SourceRef } from './types.ts';
import { applyLayerBlobDiffId } from '../snapshot/apply-layer.ts';
import { ensureUnpacked } from '../snapshot/unpack.ts';
import { rememberBlobOrigin } from '../store/blob-origins.ts';
import type { Descriptor } from '../oci/types.ts';
import type { Reference } from '../oci/reference.ts';
import type { ImageResolver } from './image-resolver.ts';

/**
 * `docker-image://REF`: resolves the manifest for the op's platform (that digest is the
 * cache key), then makes one snapshot per layer, keyed by chain id so that every image
 * sharing a base shares its snapshots. Layers download concurrently and apply in order.
 */
export function createImageSource(resolver: ImageResolver, hostPlatform: Platform): SourceFactory {
  return function imageSource(identifier, _attrs, ctx): SourceInstance {
    const ref = identifier.slice('docker-image://'.length);
    const platform = ctx.platform ?? hostPlatform;
    const resolved = () => resolver.resolve(ref, platform);
    return {
      async cacheKeyParts() {
        return { manifest: (await resolved()).manifestDigest };
      },
      async load(): Promise<SourceRef> {
        const img = await resolved();
        const layers = img.manifest.layers;
        const diffIds = img.config.rootfs.diff_ids as Digest[];
        if (layers.length !== diffIds.length) {
          throw new KilnError(`image ${ref}: ${layers.length} layers but ${diffIds.length} diff ids in its config`, { kind: 'input' });
        }
        const chainIds = chainIdsOf(diffIds);
        // A pulled layer's snapshot, or one this machine built (an image of the local store keeps those as snapshots).
        const snapshotOf = (chainId: string) => {
          const built = ctx.store.builtLayers.byChainId(chainId);
          return ctx.store.snapshots.byChainId(chainId) ?? (built ? ctx.store.snapshots.get(built) : undefined);
        };
        const blobs = layers.map((l, i) => (snapshotOf(chainIds[i]!) ? Promise.resolve() : ensureBlob(ctx.store, resolver, img.ref, l as Descriptor, ctx)));
        blobs.forEach((b) => b.catch(() => {}));
        let parent: string | null = null;
        for (let i = 0; i < layers.length; i++) {
          const existing = snapshotOf(chainIds[i]!);
          if (existing) {
            parent = existing.id;
            continue;
          }
          await blobs[i];
          const l = layers[i] as Descriptor;
          // The layers below may be lazy (from an imported cache): hard links may point into them.
          await ensureUnpacked(ctx.store, parent);
          const lowerDirs = parent ? ctx.store.snapshots.layerDirs(parent) : [];
          const active = await ctx.store.snapshots.prepare();
          try {
            // The snapshot is recorded under the chain id the config's diff ids give: the layer
            // must be what they say, or one image could stand in for another's layers.
            const { diffId } = await applyLayerBlobDiffId(ctx.store.content.path(l.digest as Digest), l.mediaType, active.fs, { lowerDirs });
            if (diffId !== diffIds[i]) {
              throw new KilnError(`layer ${l.digest} uncompresses to ${diffId}, but the image config gives diff id ${diffIds[i]}`, {
                kind: 'input',
                hint: 'the image is inconsistent (a broken or tampered push); nothing of it was kept',
              });
            }
          } catch (err) {
            await ctx.store.snapshots.discard(active);
            if (err instanceof KilnError) err.message = `image ${ref}: ${err.message}`;
            throw err;
          }
          const rec = await ctx.store.snapshots.commit(active, {
            parent,
            chainId: chainIds[i],
            blob: { digest: l.digest as Digest, size: l.size, mediaType: l.mediaType, diffId: diffIds[i]! },
          });
          parent = rec.id;
        }
        return { kind: 'snapshot', id: parent };
      },
    };
  };
}

async function ensureBlob(store: Store, resolver: ImageResolver, ref: Reference, desc: Descriptor, ctx: SourceContext): Promise<void> {
  const d = desc.digest as Digest;
  if (await store.content.has(d)) return;
  const tmp = store.content.ingestPath();
  const bytes = ctx.transfer?.(`pull ${d}`, `pulling ${d.slice(0, 19)}`, desc.size);
  await resolver.registry.fetchBlobToFile(ref, desc, tmp, bytes?.add);
  bytes?.done();
  await store.content.adopt(tmp, d);
  rememberBlobOrigin(store.meta, d, `${ref.domain}/${ref.path}`);
}
