/**
 * Building syntax-tree nodes by hand, in the shape BuildKit's parser produces (see
 * src/frontend/dockerfile/parser/node.ts), so these tests do not depend on the parser.
 */

import type { Heredoc, Node } from '../../../../src/frontend/dockerfile/parser/node.ts';

export function argNode(value: string, children: Node[] = []): Node {
  return {
    value, next: [], children, heredocs: [], json: false, original: '', flags: [],
    startLine: 0, endLine: 0, prevComment: [],
  };
}

export interface NodeOpts {
  flags?: string[];
  json?: boolean;
  heredocs?: Partial<Heredoc>[];
  original?: string;
  line?: number;
  endLine?: number;
  comments?: string[];
}

/** An instruction node: `keyword` as written, `args` as the parser splits them. */
export function node(keyword: string, args: string[] = [], o: NodeOpts = {}): Node {
  const flags = o.flags ?? [];
  const line = o.line ?? 1;
  const text = o.json ? JSON.stringify(args) : args.join(' ');
  return {
    value: keyword,
    next: args.map((a) => argNode(a)),
    children: [],
    heredocs: (o.heredocs ?? []).map((h) => ({ name: 'EOF', fileDescriptor: 0, expand: true, chomp: false, content: '', ...h })),
    json: o.json ?? false,
    original: o.original ?? [keyword, ...flags, text].filter((s) => s !== '').join(' '),
    flags,
    startLine: line,
    endLine: o.endLine ?? line,
    prevComment: o.comments ?? [],
  };
}

/** ENV/LABEL pairs as the parser emits them: key, value, '=' (or '' for legacy `ENV k v`). */
export function kvArgs(...pairs: [string, string, ('=' | '')?][]): string[] {
  return pairs.flatMap(([k, v, d]) => [k, v, d ?? '=']);
}

/** ONBUILD <trigger>: the trigger is the single child of the first argument node. */
export function onbuild(trigger: Node, o: NodeOpts = {}): Node {
  const n = node('ONBUILD', [], { ...o, original: o.original ?? `ONBUILD ${trigger.original}` });
  n.next = [argNode('', [trigger])];
  return n;
}

/** A root node holding `children`, numbered one per line from 1. */
export function root(...children: Node[]): Node {
  children.forEach((c, i) => {
    if (c.startLine === 1 && i > 0) {
      c.startLine = i + 1;
      c.endLine = i + 1;
    }
  });
  const r = argNode('', children);
  r.startLine = children[0]?.startLine ?? 0;
  r.endLine = children.at(-1)?.endLine ?? 0;
  return r;
}
