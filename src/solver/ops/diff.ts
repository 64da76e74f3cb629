import { KilnError } from '../../util/errors.ts';
import type { DiffOp } from '../../llb/types.ts';
import type { Store } from '../../store/index.ts';
import { withMountedView } from '../../snapshot/overlay.ts';
import { EMPTY_REF, type OpContext, type OpResolver, type Ref } from '../types.ts';

/** Writes the changes from `lower` to `upper` (directories) into the empty layer dir `out` (diff-trees.ts): here or on a worker. */
export type DiffRunner = (lower: string | undefined, upper: string, out: string) => Promise<void>;

/**
 * Diff (BuildKit's llb.Diff): the changes from the lower input to the upper one, as a
 * snapshot of its own (no parent) whose layers hold them, removals as whiteouts. When the
 * upper input is the lower one with layers on top (the usual case: a RUN or COPY on a
 * base), those layers are the diff, re-linked without a byte copied; otherwise the two trees
 * are compared and the changes written into one new layer.
 */
export function createDiffOp(diffTrees: DiffRunner): OpResolver {
  return function diffOp(ctx: OpContext) {
    const body = ctx.op.op as DiffOp;
    return {
      async exec(inputs: Ref[]): Promise<Ref[]> {
        const side = (i: number) => (i >= 0 ? inputs[i] : EMPTY_REF) ?? EMPTY_REF;
        const lower = side(body.lower);
        const upper = side(body.upper);
        if (lower.kind !== 'snapshot' || upper.kind !== 'snapshot') throw new KilnError('diff of a local directory is not supported', { kind: 'input' });
        if (!upper.id) return [EMPTY_REF];
        const linked = relinkedTop(ctx.store, lower.id, upper.id);
        if (linked !== undefined) return [{ kind: 'snapshot', id: linked }];
        const active = await ctx.store.snapshots.prepare();
        try {
          const run = ctx.store.layout.run;
          await withMountedView(ctx.store.snapshots.layerDirs(upper.id), (u) =>
            lower.id ? withMountedView(ctx.store.snapshots.layerDirs(lower.id), (l) => diffTrees(l, u, active.fs), run) : diffTrees(undefined, u, active.fs),
          run);
          const rec = await ctx.store.snapshots.commit(active, { parent: null });
          return [{ kind: 'snapshot', id: rec.id }];
        } catch (err) {
          await ctx.store.snapshots.discard(active);
          throw err;
        }
      },
    };
  };
}

/**
 * When `upper`'s chain is `lower`'s with layers on top: those layers re-linked onto nothing
 * (the new top's id); undefined otherwise. A layer that joins its parent (an incremental COPY
 * delta) cannot start a chain: then the trees are compared instead.
 */
function relinkedTop(store: Store, lower: string | null, upper: string): string | null | undefined {
  const lowerChain = store.snapshots.chain(lower);
  const upperChain = store.snapshots.chain(upper);
  if (lowerChain.length > upperChain.length || lowerChain.some((r, i) => upperChain[i]!.id !== r.id)) return undefined;
  const extra = upperChain.slice(lowerChain.length);
  if (extra.length === 0) return null;
  if (extra[0]!.joinsParent) return undefined;
  let top: string | null = null;
  for (const rec of extra) top = store.snapshots.relink(rec, top).id;
  return top;
}
