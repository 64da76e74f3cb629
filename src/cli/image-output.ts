import { exportBlobs } from '../exporter/multi-platform.ts';
import type { Exporter } from '../exporter/types.ts';
import type { Store } from '../store/index.ts';
import { normalizeImageName } from '../exporter/image-name.ts';
import { KilnError } from '../util/errors.ts';
import { chainIdsOf } from '../oci/chain-id.ts';

/**
 * `-o type=image,name=R` (and `-t R` with no other output, as docker build): the image goes
 * into the local image store: its config and manifest into the content store (layers are
 * there already, or kept as snapshots: see LayerOptions.keep) and each name recorded. `FROM R`
 * in a later build then needs no registry.
 */
export function createImageStoreExporter(store: Store, names: string[], opts: { ociMediaTypes?: boolean } = {}): Exporter {
  return {
    kind: 'image',
    async export(src) {
      const all = [...new Set([...names, ...src.names])].map(normalizeImageName);
      for (const img of src.platforms?.map((p) => p.image) ?? [src.image]) {
        const chainIds = chainIdsOf(img.layers.map((l) => l.diffId));
        for (const [i, l] of img.layers.entries()) {
          if (l.kept) {
            // Kept as its snapshot: recorded so FROM of the image uses the snapshot and GC keeps it.
            if (!store.snapshots.get(l.kept.snapshot)) throw new KilnError(`layer ${l.diffId}: snapshot ${l.kept.snapshot} is gone`, { kind: 'internal' });
            store.builtLayers.record(chainIds[i]!, l.diffId, l.kept.snapshot);
          } else if (!(await store.content.has(l.descriptor.digest))) throw new KilnError(`layer ${l.descriptor.digest} is not in the content store`, { kind: 'internal' });
        }
      }
      // The image, the index holding it and its provenance, or the index of every platform.
      const { top, records, configDigest } = exportBlobs(src, all, { ociMediaTypes: opts.ociMediaTypes ?? true });
      for (const r of records) if (r.kind === 'bytes') await store.content.put(r.bytes);
      for (const n of all) store.images.put(n, top);
      return { kind: 'image', dest: all.join(', ') || undefined, names: all, manifestDigest: top.digest, configDigest, descriptor: top };
    },
  };
}
