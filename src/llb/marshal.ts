import type { Digest } from '../util/digest.ts';
import { opDigest } from './encode.ts';
import type { Definition, Op, OpInput } from './types.ts';
import type { Output, Vertex } from './vertex.ts';

/**
 * Turns the graph reachable from `output` into a Definition: every vertex once, inputs
 * before their users. Identical vertices (same op, same inputs) get the same digest and
 * appear once, however many times the frontend built them.
 */
export function marshal(output: Output | null, sources?: Record<string, string>): Definition {
  const digests = new Map<Vertex, Digest>();
  const ops: Definition['ops'] = [];
  const seen = new Set<Digest>();
  const metadata: Definition['metadata'] = {};

  const visit = (v: Vertex): Digest => {
    const known = digests.get(v);
    if (known) return known;
    const inputs: OpInput[] = v.inputs.map((o) => ({ digest: visit(o.vertex), index: o.index }));
    const op: Op = { inputs, op: v.body };
    if (v.platform) op.platform = v.platform;
    const d = opDigest(op);
    digests.set(v, d);
    if (!seen.has(d)) {
      seen.add(d);
      ops.push({ digest: d, op });
    }
    if (Object.keys(v.metadata).length) metadata[d] = mergeMetadata(metadata[d], v.metadata);
    return d;
  };

  const out = output ? { digest: visit(output.vertex), index: output.index } : null;
  const def: Definition = { version: 1, ops, metadata, output: out };
  if (sources) def.sources = sources;
  return def;
}

function mergeMetadata(a: Definition['metadata'][string] | undefined, b: Definition['metadata'][string]) {
  if (!a) return b;
  // The same work described twice: keep the first name, but never cache if either says so.
  return { ...b, ...a, ignoreCache: a.ignoreCache || b.ignoreCache || undefined };
}
