import { bytesReporter } from '../../progress/events.ts';
import type { SourceOp } from '../../llb/types.ts';
import { KilnError } from '../../util/errors.ts';
import type { SourceFactory } from '../../source/types.ts';
import type { OpContext, OpResolver, OpSolver } from '../types.ts';

/** Source ops: dispatched by the scheme of their identifier to the injected source factories. */
export function createSourceOp(schemes: Record<string, SourceFactory>): OpResolver {
  return function sourceOp(ctx: OpContext): OpSolver {
    const body = ctx.op.op as SourceOp;
    const scheme = body.identifier.split('://', 1)[0]!;
    const factory = schemes[scheme];
    if (!factory) {
      throw new KilnError(`unsupported source ${JSON.stringify(body.identifier)}`, { kind: 'input', hint: `kiln knows: ${Object.keys(schemes).join(', ')}` });
    }
    const src = factory(body.identifier, body.attrs ?? {}, {
      store: ctx.store,
      platform: ctx.op.platform,
      signal: ctx.signal,
      transfer: (id, name, total) => bytesReporter(ctx.progress, { digest: ctx.digest, id, name, total }),
    });
    return {
      cacheable: src.cacheable,
      cacheKeyParts: () => src.cacheKeyParts(),
      contentKey: src.contentKey ? (paths) => src.contentKey!(paths) : undefined,
      exec: async () => [await src.load()],
    };
  };
}
