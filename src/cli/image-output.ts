import { buildImageBlobs } from '../exporter/index.ts';
import { withProvenance } from '../exporter/attestation.ts';
import type { Exporter } from '../exporter/types.ts';
import type { Descriptor } from '../oci/types.ts';
import type { Store } from '../store/index.ts';
import { normalizeImageName } from '../exporter/image-name.ts';
import { KilnError } from '../util/errors.ts';

/**
 * `-o type=image,name=R` (and `-t R` with no other output, as docker build): the image goes
 * into the local image store: its config and manifest into the content store (layers are
 * there already) and each name recorded. `FROM R` in a later build then needs no registry.
 */
export function createImageStoreExporter(store: Store, names: string[], opts: { ociMediaTypes?: boolean } = {}): Exporter {
  return {
    kind: 'image',
    async export(src) {
      const all = [...new Set([...names, ...src.names])].map(normalizeImageName);
      const blobs = buildImageBlobs(src.image, { ociMediaTypes: opts.ociMediaTypes ?? true });
      for (const l of src.image.layers) {
        if (!(await store.content.has(l.descriptor.digest))) {
          throw new KilnError(`layer ${l.descriptor.digest} is not in the content store`, { kind: 'internal' });
        }
      }
      await store.content.put(blobs.config.bytes);
      await store.content.put(blobs.manifest.bytes);
      // With provenance, the stored (and pushed) image is the index holding its attestation.
      const attested = withProvenance(src.image, blobs, all);
      for (const b of attested ? [...attested.blobs, attested.index] : []) await store.content.put(b.bytes);
      const target = (attested ? attested.index.descriptor : blobs.manifest.descriptor) as Descriptor;
      for (const n of all) store.images.put(n, target);
      return { kind: 'image', dest: all.join(', ') || undefined, names: all, manifestDigest: target.digest, configDigest: blobs.config.descriptor.digest, descriptor: target };
    },
  };
}
