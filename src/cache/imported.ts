import type { Store } from '../store/index.ts';
import { errorMessage, KilnError } from '../util/errors.ts';
import type { CacheLayer } from './format.ts';
import type { LoadedCache, Transfer } from './loaded.ts';
import { materializeChain } from './materialize.ts';
import { chainIdsOf } from '../oci/chain-id.ts';

/** The solver's view of imported caches (solver/types.ts ImportedCache). */
export interface ImportedCacheLookup {
  has(key: string, outputs: number): boolean;
  load(key: string, outputs: number, report: { transfer: Transfer; warn(message: string): void; signal: AbortSignal }): Promise<(string | null)[] | undefined>;
}

interface Candidate {
  source: LoadedCache;
  /** Layer chain per output, as indexes of the source's layers (undefined: that output has no record in this source). */
  chains: (number[] | undefined)[];
}

/**
 * Several loaded caches as one lookup: the first source with a usable record of a key wins
 * (in `--cache-from` order). A record whose layers cannot be fetched or fail verification is
 * skipped with a warning (the next source is tried, else the step runs), and never asked again.
 */
export function importedCache(store: Store, sources: LoadedCache[]): ImportedCacheLookup {
  const byKey = new Map<string, Candidate[]>();
  for (const source of sources) {
    const mine = new Map<string, Candidate>();
    for (const r of source.records) {
      let c = mine.get(r.key);
      if (!c) {
        c = { source, chains: [] };
        mine.set(r.key, c);
        byKey.set(r.key, [...(byKey.get(r.key) ?? []), c]);
      }
      c.chains[r.output] = r.chain;
    }
  }
  const failed = new Set<Candidate>();
  const usable = (key: string, outputs: number) =>
    (byKey.get(key) ?? []).filter((c) => !failed.has(c) && Array.from({ length: outputs }, (_, i) => c.chains[i]).every(Boolean));
  // One download per blob at a time, whichever step asks.
  const fetching = new Map<string, Promise<void>>();
  return {
    has: (key, outputs) => usable(key, outputs).length > 0,
    async load(key, outputs, report) {
      for (const c of usable(key, outputs)) {
        const fetch = (layer: CacheLayer) => {
          let p = fetching.get(layer.digest);
          if (!p) {
            const t = report.transfer(`pull ${layer.digest}`, `pulling ${layer.digest.slice(0, 19)}`, layer.size);
            p = c.source.fetch(layer, t.add).then(t.done);
            fetching.set(layer.digest, p);
            p.catch(() => fetching.delete(layer.digest));
          }
          return p;
        };
        try {
          const chains = c.chains.slice(0, outputs) as number[][];
          const snaps = await Promise.all(chains.map((chain) => materializeChain(store, chain.map((i) => c.source.layers[i]!), fetch, report.signal)));
          for (const chain of chains) adoptPrefixRecords(store, c.source, chain);
          return snaps;
        } catch (err) {
          if (err instanceof KilnError && err.kind === 'canceled') throw err;
          failed.add(c);
          report.warn(`cache from ${c.source.label} not used: ${errorMessage(err)}`);
        }
      }
      return undefined;
    },
  };
}

/**
 * Once a chain is in the store, so is every prefix of it (one snapshot per layer, by chain
 * id): the source's records of those prefixes (the earlier steps of the same stage) become
 * local records too, without a download. A later export then carries them on, as the build
 * that made them would (the same inline records, the same image).
 */
function adoptPrefixRecords(store: Store, source: LoadedCache, chain: number[]): void {
  const chainIds = chainIdsOf(chain.map((i) => source.layers[i]!.diffId));
  for (const r of source.records) {
    if (r.chain.length > chain.length || !r.chain.every((i, n) => source.layers[i]!.digest === source.layers[chain[n]!]!.digest)) continue;
    if (store.cache.get(r.key, r.output)) continue;
    const snap = r.chain.length ? store.snapshots.byChainId(chainIds[r.chain.length - 1]!) : null;
    if (snap !== undefined) store.cache.put(r.key, r.output, snap ? snap.id : null, 'imported');
  }
}
