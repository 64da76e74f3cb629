import type { Store, SnapshotRecord } from '../store/index.ts';
import { groupTops } from '../store/snapshots.ts';
import { sortRecords, INLINE_CACHE_FIELD, type CacheRecord } from './format.ts';

export type CacheMode = 'min' | 'max';

/** A record to export: output `output` of cache key `key` is the chain of image layers `tops` (each layer's top snapshot). */
export interface PlannedRecord {
  key: string;
  output: number;
  tops: SnapshotRecord[];
}

/** The image layers of a snapshot chain, as the snapshots that carry each layer's blob (base first). */
export function layerTops(store: Store, snapshot: string | null): SnapshotRecord[] {
  return snapshot === null ? [] : groupTops(store.snapshots.chain(snapshot));
}

/**
 * The records a cache export holds, from the build's keyed steps (their results are in the
 * store's cache records). `max`: every step. `min`: the steps whose file system is a prefix
 * of a result's layers (the final stage's steps), so no layer beyond the results' is
 * exported. Sorted (key, output).
 */
export function planCacheExport(store: Store, keyed: Iterable<{ key: string; outputs: number }>, results: (string | null)[], mode: CacheMode): PlannedRecord[] {
  const finals = results.map((r) => layerTops(store, r).map((t) => t.id));
  const isPrefix = (ids: string[]) => finals.some((f) => ids.length <= f.length && ids.every((id, i) => f[i] === id));
  const seen = new Set<string>();
  const out: PlannedRecord[] = [];
  for (const { key, outputs } of keyed) {
    if (seen.has(key)) continue;
    seen.add(key);
    for (let output = 0; output < outputs; output++) {
      const hit = store.cache.get(key, output);
      if (!hit || (hit.snapshot !== null && !store.snapshots.get(hit.snapshot))) continue;
      const tops = layerTops(store, hit.snapshot);
      if (mode === 'min' && !isPrefix(tops.map((t) => t.id))) continue;
      out.push({ key, output, tops });
    }
  }
  return sortRecords(out);
}

/**
 * The inline cache of one result's image: its `min` records, whose chains index the image's
 * own layers (a prefix of them), as the config field that carries them.
 */
export function inlineCacheField(store: Store, keyed: Iterable<{ key: string; outputs: number }>, result: string | null): Record<string, { records: CacheRecord[] }> {
  const records = planCacheExport(store, keyed, [result], 'min').map((r) => ({ key: r.key, output: r.output, chain: r.tops.map((_, i) => i) }));
  return { [INLINE_CACHE_FIELD]: { records } };
}
