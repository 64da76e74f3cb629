import type { Digest } from '../util/digest.ts';
import type { Op, OpMetadata } from '../llb/types.ts';
import type { ProgressSink } from '../progress/events.ts';
import type { Store } from '../store/index.ts';

import type { SourceRef } from '../source/types.ts';

/** A solved output: a committed snapshot (null id = empty file system) or a local directory read in place. */
export type Ref = SourceRef;

export const EMPTY_REF: Ref = { kind: 'snapshot', id: null };

/** What an op implementation gets for one vertex. */
export interface OpContext {
  digest: Digest;
  op: Op;
  metadata: OpMetadata;
  /** Display name (`[stage 1/3] RUN make`). */
  name: string;
  store: Store;
  progress: ProgressSink;
  signal: AbortSignal;
  /** Streams a step's output into progress. */
  log(stream: 'stdout' | 'stderr', chunk: Uint8Array | string): void;
}

/**
 * One vertex's implementation. The solver core calls cacheKeyParts before deciding
 * whether to run, and exec only on a cache miss, with its inputs' results.
 */
export interface OpSolver {
  /**
   * The parts of the op that define its result, beyond the op body and its inputs' keys:
   * an image's manifest digest, a local directory's content checksum. May resolve remote
   * metadata; must not do the work itself.
   */
  cacheKeyParts?(): Promise<unknown>;
  /** The op body as it enters the cache key (drop fields that do not affect the result). */
  cacheBody?(): unknown;
  /**
   * Per input index, the paths this op reads from that input (e.g. COPY sources). For an
   * input whose op offers `contentKey`, the key then depends on those paths' content only.
   */
  inputSelectors?(): Record<number, string[]>;
  /** A content checksum of just `paths` of this op's output (see inputSelectors). */
  contentKey?(paths: string[]): Promise<string>;
  /** Whether results may be stored in (and read from) the cache. Default true. */
  cacheable?: boolean;
  /**
   * Runs `start` when this op may begin (e.g. when one of the limited RUN slots is free):
   * the step is reported as started only then. Default: at once.
   */
  slot?<T>(start: () => Promise<T>): Promise<T>;
  exec(inputs: Ref[]): Promise<Ref[]>;
}

export type OpResolver = (ctx: OpContext) => OpSolver;

/** Implementations by op type, injected by the composition root (cli). */
export type OpResolvers = Record<Op['op']['type'], OpResolver>;

/** Reports the bytes of one transfer (a download) as it goes. */
export type TransferReporter = (id: string, name: string, total?: number) => { add(n: number): void; done(): void };

/**
 * Cache records imported from elsewhere (`--cache-from`), asked on a local miss. Only a
 * result the build needs is loaded: `load` downloads and applies its layers then, and
 * returns one snapshot per output (null: the empty file system), or undefined when the
 * records could not be used (a warning says why; the step then runs).
 */
export interface ImportedCache {
  has(key: string, outputs: number): boolean;
  load(key: string, outputs: number, report: { transfer: TransferReporter; warn(message: string): void; signal: AbortSignal }): Promise<(string | null)[] | undefined>;
}
