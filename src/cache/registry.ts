/**
 * The registry cache backend: a cache artifact pushed under a reference, and read back from
 * one, whether it holds a cache manifest, a cache index, or an image with inline records.
 */
import { createReadStream } from 'node:fs';
import { Transform } from 'node:stream';
import type { RegistryClient } from '../registry/index.ts';
import type { Store } from '../store/index.ts';
import { formatReference, type Reference } from '../oci/reference.ts';
import { isIndexMediaType, isManifestMediaType } from '../oci/media-types.ts';
import type { Platform } from '../oci/platform.ts';
import type { Descriptor } from '../oci/types.ts';
import type { Digest } from '../util/digest.ts';
import { KilnError } from '../util/errors.ts';
import { CACHE_CONFIG_MEDIA_TYPE, inlineRecords, parseCacheDocument, type CacheLayer } from './format.ts';
import type { CacheArtifact } from './artifact.ts';
import type { LoadedCache, Transfer } from './loaded.ts';

const MAX_DOCUMENT_SIZE = 64 << 20;

/** Pushes the artifact's blobs the repository lacks, then its manifest under the ref's tag (default `latest`). */
export async function pushCache(registry: RegistryClient, store: Store, ref: Reference, art: CacheArtifact, transfer?: Transfer): Promise<void> {
  await Promise.all(
    art.blobs.map(async ({ desc, path, bytes }) => {
      const origin = store.meta.get(`blob-origin:${desc.digest}`);
      const mountFrom = origin?.startsWith(`${ref.domain}/`) ? origin.slice(ref.domain.length + 1) : undefined;
      const t = path ? transfer?.(`push cache ${desc.digest}`, `pushing ${desc.digest.slice(0, 19)}`, desc.size) : undefined;
      const open = (range?: { start: number; end: number }) => {
        if (bytes) return Buffer.from(range ? bytes.subarray(range.start, range.end + 1) : bytes);
        const s = createReadStream(path!, range);
        return t ? s.pipe(counter(t.add)) : s;
      };
      await registry.pushBlob(ref, desc, open, { mountFrom });
      t?.done();
    }),
  );
  await registry.putManifest(ref, art.top.mediaType, art.top.bytes, ref.tag ?? 'latest');
}

function counter(add: (n: number) => void): Transform {
  return new Transform({
    transform(c: Buffer, _e, cb) {
      add(c.byteLength);
      cb(null, c);
    },
  });
}

/**
 * The cache records under `ref`: a kiln cache manifest or index, else inline records in the
 * image (each of `platforms`' images of an index). An image without records is an empty cache.
 */
export async function loadRegistryCache(registry: RegistryClient, store: Store, ref: Reference, platforms: Platform[]): Promise<LoadedCache[]> {
  const label = formatReference(ref);
  const top = await registry.fetchManifest(ref);
  const json = JSON.parse(new TextDecoder().decode(top.bytes)) as { config?: Descriptor; manifests?: Descriptor[]; layers?: Descriptor[] };
  const fetch = (layer: CacheLayer, onBytes?: (n: number) => void) => fetchToStore(registry, store, ref, layer, onBytes);
  const documentIn = isManifestMediaType(top.mediaType) && json.config?.mediaType === CACHE_CONFIG_MEDIA_TYPE
    ? json.config
    : isIndexMediaType(top.mediaType) ? json.manifests?.find((m) => m.mediaType === CACHE_CONFIG_MEDIA_TYPE) : undefined;
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
  store.meta.set(`blob-origin:${layer.digest}`, `${ref.domain}/${ref.path}`);
}
