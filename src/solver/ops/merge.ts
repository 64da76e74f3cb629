import { KilnError } from '../../util/errors.ts';
import type { OpContext, OpResolver, Ref } from '../types.ts';

/**
 * Merge (COPY --link): the inputs' layers stacked in order, without copying a byte. Each
 * layer of a later input is re-linked on top of the result so far, sharing its directory
 * and its layer blob — so a changed base does not invalidate or re-export linked layers.
 */
export function createMergeOp(): OpResolver {
  return function mergeOp(ctx: OpContext) {
    return {
      async exec(inputs: Ref[]): Promise<Ref[]> {
        let top: string | null = null;
        for (const ref of inputs) {
          if (ref.kind !== 'snapshot') throw new KilnError('merge of a local directory is not supported', { kind: 'internal' });
          for (const rec of ctx.store.snapshots.chain(ref.id)) top = ctx.store.snapshots.relink(rec, top).id;
        }
        return [{ kind: 'snapshot', id: top }];
      },
    };
  };
}
