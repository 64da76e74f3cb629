import type { OpBody, OpMetadata, Platform } from './types.ts';

/**
 * A node of the graph under construction. Vertices are immutable once made; the
 * digest is computed at marshal time from the op and its inputs' digests.
 */
export interface Vertex {
  readonly body: OpBody;
  readonly inputs: readonly Output[];
  readonly platform?: Platform;
  readonly metadata: OpMetadata;
}

/** Output `index` of `vertex`. */
export interface Output {
  readonly vertex: Vertex;
  readonly index: number;
}

export function makeVertex(body: OpBody, inputs: Output[], platform: Platform | undefined, metadata: OpMetadata = {}): Vertex {
  return Object.freeze({ body, inputs: Object.freeze([...inputs]), platform, metadata });
}

/** Options every op constructor takes: display name, cache opt-out, build-file location. */
export interface ConstraintsOpt {
  customName?: string;
  ignoreCache?: boolean;
  locations?: OpMetadata['locations'];
  description?: Record<string, string>;
  progressGroup?: OpMetadata['progressGroup'];
}

export function metadataOf(c: ConstraintsOpt | undefined): OpMetadata {
  if (!c) return {};
  const description = { ...(c.description ?? {}) };
  if (c.customName) description['llb.customname'] = c.customName;
  const md: OpMetadata = {};
  if (Object.keys(description).length) md.description = description;
  if (c.ignoreCache) md.ignoreCache = true;
  if (c.locations?.length) md.locations = c.locations;
  if (c.progressGroup) md.progressGroup = c.progressGroup;
  return md;
}
