import type { Platform } from '../oci/types.ts';
import type { Store } from '../store/index.ts';

/** What a source produces: a committed snapshot (null id = empty) or a local directory read in place. */
export type SourceRef = { kind: 'snapshot'; id: string | null } | {
      kind: 'local';
      name: string;
      dir: string;
      excludePatterns: string[];
      /** The directory's metadata index (context-index.ts), when the build keeps one. */
      indexFile?: string;
    };

export interface SourceContext {
  store: Store;
  /** The platform the op asks for, if any. */
  platform?: Platform;
  signal: AbortSignal;
  /** Reports the bytes of a transfer the source makes (shown in the step's progress): `add` per chunk, `done` at the end. */
  transfer?(id: string, name: string, total?: number): { add(n: number): void; done(): void };
}

/**
 * One source vertex. `cacheKeyParts` identifies the content (an image's manifest digest,
 * a directory's checksum) without fetching it; `load` fetches it.
 */
export interface SourceInstance {
  /** false when results must not be recorded in the cache (they are not snapshots). */
  cacheable?: boolean;
  cacheKeyParts(): Promise<unknown>;
  /**
   * A checksum of only the given paths (wildcards allowed), for steps that read just those
   * (COPY sources): lets an unrelated edit keep their cache. Optional.
   */
  contentKey?(paths: string[]): Promise<string>;
  load(): Promise<SourceRef>;
}

/** Makes the instance for one identifier of this factory's scheme. */
export type SourceFactory = (identifier: string, attrs: Record<string, string>, ctx: SourceContext) => SourceInstance;
