import type { SnapshotRecord } from '../store/index.ts';
import type { Digest } from '../util/digest.ts';
import type { CacheDocument, CacheLayer } from './format.ts';
import type { PlannedRecord } from './plan.ts';

/** A layer blob for a snapshot (the exporters' layer maker, with the cache's compression): made on demand, in the content store at `path`. */
export type LayerBlobOf = (top: SnapshotRecord) => Promise<CacheLayer & { path: string }>;

/**
 * The cache document of planned records: each distinct layer's blob made once (all at once:
 * the maker bounds its own concurrency), layers listed in the order the sorted records first
 * use them. `paths` says where each blob is.
 */
export async function cacheDocument(planned: PlannedRecord[], blobOf: LayerBlobOf): Promise<{ doc: CacheDocument; paths: Map<Digest, string> }> {
  const blobs = new Map<string, Promise<CacheLayer & { path: string }>>();
  for (const r of planned) for (const t of r.tops) if (!blobs.has(t.id)) blobs.set(t.id, blobOf(t));
  const made = new Map<string, CacheLayer & { path: string }>();
  await Promise.all([...blobs].map(async ([id, p]) => made.set(id, await p)));
  const layers: CacheLayer[] = [];
  const index = new Map<Digest, number>();
  const paths = new Map<Digest, string>();
  const records = planned.map((r) => ({
    key: r.key,
    output: r.output,
    chain: r.tops.map((t) => {
      const b = made.get(t.id)!;
      let i = index.get(b.digest);
      if (i === undefined) {
        i = layers.push({ digest: b.digest, size: b.size, mediaType: b.mediaType, diffId: b.diffId }) - 1;
        index.set(b.digest, i);
        paths.set(b.digest, b.path);
      }
      return i;
    }),
  }));
  return { doc: { layers, records }, paths };
}

/** The document's bytes: fixed key order, so equal documents are equal blobs. */
export function documentBytes(doc: CacheDocument): Uint8Array {
  return new TextEncoder().encode(
    JSON.stringify({
      layers: doc.layers.map((l) => ({ digest: l.digest, size: l.size, mediaType: l.mediaType, diffId: l.diffId })),
      records: doc.records.map((r) => ({ key: r.key, output: r.output, chain: r.chain })),
    }),
  );
}
