import type { CacheLayer, CacheRecord } from './format.ts';

/** Reports the bytes of one transfer as it goes. */
export type Transfer = (id: string, name: string, total?: number) => { add(n: number): void; done(): void };

/** One imported cache, read but not downloaded: its records, and how to fetch a layer blob. */
export interface LoadedCache {
  /** Where it came from (a reference, a directory), for messages. */
  label: string;
  layers: CacheLayer[];
  records: CacheRecord[];
  /** Puts the layer's blob into the content store, verified (throws when it is missing or corrupt). */
  fetch(layer: CacheLayer, onBytes?: (n: number) => void): Promise<void>;
}
