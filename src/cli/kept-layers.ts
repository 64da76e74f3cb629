/**
 * Images of the local store whose layers are kept as snapshots (LayerOptions.keep,
 * store/built-layers.ts): their uncompressed blob made when an archive needs the bytes, and
 * the distributable form a push sends (each kept layer compressed with gzip, as `docker push`
 * compresses the layers of docker's own store).
 */
import type { Store } from '../store/index.ts';
import type { Descriptor } from '../oci/types.ts';
import type { Digest } from '../util/digest.ts';
import { sha256 } from '../util/digest.ts';
import { KilnError } from '../util/errors.ts';
import { contentReader, walkImage } from '../store/image-walk.ts';
import { isIndexMediaType, layerCompression, layerMediaType } from '../oci/media-types.ts';
import { encodeGoJson } from '../exporter/canonical-json.ts';
import { INDEX_SHAPE, MANIFEST_SHAPE } from '../exporter/spec-shapes.ts';
import { inThreadLayerWork, layerBlob, type LayerWork } from './result-image.ts';

/** The snapshot a kept layer is made from: the first recorded one that still exists. */
function keptSnapshot(store: Store, diffId: string) {
  for (const id of store.builtLayers.snapshotsOf(diffId)) {
    const rec = store.snapshots.get(id);
    if (rec) return rec;
  }
  return undefined;
}

/** Whether `digest` is a layer the store keeps as a snapshot, with no blob. */
export async function isKeptLayer(store: Store, digest: string): Promise<boolean> {
  return !(await store.content.has(digest as Digest)) && keptSnapshot(store, digest) !== undefined;
}

/**
 * Writes the uncompressed blob of a kept layer into the content store (its digest is its diff
 * id, checked). Throws when no snapshot of it is recorded.
 */
export async function materializeKeptLayer(store: Store, diffId: Digest, work: LayerWork = inThreadLayerWork): Promise<void> {
  if (await store.content.has(diffId)) return;
  const rec = keptSnapshot(store, diffId);
  if (!rec) throw new KilnError(`layer ${diffId} is neither in the content store nor kept as a snapshot`, { kind: 'input', hint: 'kiln doctor --store' });
  const blob = await layerBlob(store, rec, work, { compression: 'none' });
  if (blob.digest !== diffId) throw new KilnError(`snapshot ${rec.id} no longer gives layer ${diffId} (it gives ${blob.digest})`, { kind: 'internal' });
}

/**
 * The form of image `target` a registry gets: the same descriptor when no layer is kept;
 * else new manifests (and index) whose kept layers are gzip blobs (made once per diff id and
 * reused: layerBlob), written to the content store. The config, and so the image ID, stays.
 */
export async function distributableImage(store: Store, target: Descriptor, work: LayerWork = inThreadLayerWork): Promise<Descriptor> {
  const g = await walkImage(target, contentReader(store.content));
  let kept = false;
  for (const l of g.leaves) if (await isKeptLayer(store, l.digest)) kept = true;
  if (!kept) return target;
  const replaced = new Map<string, Descriptor>();
  for (const node of g.nodes) {
    const doc = JSON.parse(new TextDecoder().decode(node.bytes)) as { mediaType?: string; manifests?: Descriptor[]; layers?: Descriptor[] };
    const isIndex = isIndexMediaType(node.mediaType) || Array.isArray(doc.manifests);
    if (isIndex) doc.manifests = doc.manifests!.map((m) => ({ ...m, ...pick(replaced.get(m.digest)) }));
    else doc.layers = await Promise.all((doc.layers ?? []).map((l) => gzipped(store, l, work)));
    const bytes = new TextEncoder().encode(encodeGoJson(doc, isIndex ? INDEX_SHAPE : MANIFEST_SHAPE));
    const digest = sha256(bytes);
    if (digest !== node.digest) {
      await store.content.put(bytes);
      replaced.set(node.digest, { mediaType: node.mediaType, digest, size: bytes.byteLength } as Descriptor);
    }
  }
  return { ...target, ...pick(replaced.get(target.digest)) };
}

const pick = (d: Descriptor | undefined) => (d ? { digest: d.digest, size: d.size } : {});

/** A kept layer's gzip descriptor (same media-type family); any other layer as it is. */
async function gzipped(store: Store, l: Descriptor, work: LayerWork): Promise<Descriptor> {
  if (!(await isKeptLayer(store, l.digest))) return l;
  const rec = keptSnapshot(store, l.digest)!;
  const blob = await layerBlob(store, rec, work, { compression: 'gzip' });
  if (blob.diffId !== l.digest) throw new KilnError(`snapshot ${rec.id} no longer gives layer ${l.digest}`, { kind: 'internal' });
  const family = l.mediaType.startsWith('application/vnd.docker.') ? 'docker' : 'oci';
  if (layerCompression(l.mediaType) !== 'none') throw new KilnError(`kept layer ${l.digest} has media type ${l.mediaType}`, { kind: 'internal' });
  return { ...l, mediaType: layerMediaType(family, 'gzip'), digest: blob.digest, size: blob.size };
}
