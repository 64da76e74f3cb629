/**
 * Reading a cache from a registry, whether the reference holds a cache manifest, a cache
 * index, or an image with inline records. (Exports are pushed by cli/cache-io.ts, as images are.)
 */
import type { RegistryClient } from '../registry/index.ts';
import type { Store } from '../store/index.ts';
import { rememberBlobOrigin } from '../store/blob-origins.ts';
import { formatReference, type Reference } from '../oci/reference.ts';
import { isIndexMediaType } from '../oci/media-types.ts';
import type { Platform } from '../oci/platform.ts';
import type { Descriptor } from '../oci/types.ts';
import type { Digest } from '../util/digest.ts';
import { KilnError } from '../util/errors.ts';
import { documentDescriptor, inlineRecords, parseCacheDocument, type CacheLayer } from './format.ts';
import type { LoadedCache } from './loaded.ts';

const MAX_DOCUMENT_SIZE = 64 << 20;

/**
 * The cache records under `ref`: a kiln cache manifest or index, else inline records in the
 * image (each of `platforms`' images of an index). An image without records is an empty cache.
 */
export async function loadRegistryCache(registry: RegistryClient, store: Store, ref: Reference, platforms: Platform[]): Promise<LoadedCache[]> {
  const label = formatReference(ref);
  const top = await registry.fetchManifest(ref);
  const json = JSON.parse(new TextDecoder().decode(top.bytes)) as { config?: Descriptor; manifests?: Descriptor[]; layers?: Descriptor[] };
  const fetch = (layer: CacheLayer, onBytes?: (n: number) => void) => fetchToStore(registry, store, ref, layer, onBytes);
  const documentIn = documentDescriptor(top.mediaType, json);
  if (documentIn) {
    const doc = parseCacheDocument(await registry.fetchBlobBytes(ref, documentIn, MAX_DOCUMENT_SIZE), label);
    return [{ label, ...doc, fetch }];
  }
  // An image: its config's inline records, whose chains index the image's layers.
  const out: LoadedCache[] = [];
  const wanted = isIndexMediaType(top.mediaType) ? platforms : platforms.slice(0, 1);
  for (const platform of wanted) {
    const img = await registry.resolve(ref, platform).catch((err) => {
      if (isIndexMediaType(top.mediaType)) return undefined; // the index has no image for this platform
      throw err;
    });
    if (!img) continue;
    const config = JSON.parse(new TextDecoder().decode(img.configBytes)) as Record<string, unknown>;
    const diffIds = img.config.rootfs.diff_ids as Digest[];
    const records = inlineRecords(config, Math.min(img.manifest.layers.length, diffIds.length), label);
    if (!records) continue;
    const layers = img.manifest.layers.map((l, i) => ({ digest: l.digest as Digest, size: l.size, mediaType: l.mediaType, diffId: diffIds[i]! }));
    out.push({ label, layers, records, fetch });
  }
  return out;
}

async function fetchToStore(registry: RegistryClient, store: Store, ref: Reference, layer: CacheLayer, onBytes?: (n: number) => void): Promise<void> {
  if (await store.content.has(layer.digest)) return;
  const tmp = store.content.ingestPath();
  try {
    await registry.fetchBlobToFile(ref, { mediaType: layer.mediaType, digest: layer.digest, size: layer.size }, tmp, onBytes);
  } catch (err) {
    if (err instanceof KilnError) throw err;
    throw new KilnError(`fetching ${layer.digest} from ${formatReference(ref)}: ${(err as Error).message}`, { kind: 'runtime', cause: err });
  }
  await store.content.adopt(tmp, layer.digest);
  rememberBlobOrigin(store.meta, layer.digest, `${ref.domain}/${ref.path}`);
}
