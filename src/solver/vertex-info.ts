import type { Op, OpMetadata } from '../llb/types.ts';

/** The name progress shows for a vertex: its custom name, else a description of the op. */
export function vertexName(op: Op, md: OpMetadata): string {
  const custom = md.description?.['llb.customname'];
  if (custom) return custom;
  const body = op.op;
  switch (body.type) {
    case 'source':
      return body.identifier;
    case 'exec':
      return body.meta.args.join(' ');
    case 'file':
      return body.actions.map((a) => a.action.type).join(', ');
    default:
      return body.type;
  }
}

/** How many outputs a vertex has. */
export function outputCount(op: Op): number {
  const body = op.op;
  if (body.type === 'exec') return Math.max(1, ...body.mounts.map((m) => m.output + 1));
  return 1;
}
