/**
 * Test-side renderings of a kiln parse tree in the two formats of BuildKit's vectors: the
 * `(*Node).Dump()` text of `result` files and the `ast.json` object.
 */
import { goQuote, goQuoteList } from '../../../../src/frontend/dockerfile/shell/go-unicode.ts';
import type { Node, ParseResult } from '../../../../src/frontend/dockerfile/parser/index.ts';

/** BuildKit `Dump()`, for one node. */
export function dump(node: Node): string {
  let s = node.value.toLowerCase();
  if (node.flags.length > 0) s += ' ' + goQuoteList(node.flags);
  for (const c of node.children) s += '(' + dump(c) + ')\n';
  for (const n of node.next) s += ' ' + (n.children.length > 0 ? dump(n) : goQuote(n.value));
  return s.trim();
}

export function toAstJson(node: Node): unknown {
  return {
    value: node.value,
    next: node.next.map(toAstJson),
    children: node.children.map(toAstJson),
    heredocs: node.heredocs.map((h) => ({
      name: h.name,
      fileDescriptor: h.fileDescriptor,
      expand: h.expand,
      chomp: h.chomp,
      content: h.content,
    })),
    attributes: node.json ? { json: true } : {},
    original: node.original,
    flags: node.flags,
    startLine: node.startLine,
    endLine: node.endLine,
    prevComment: node.prevComment,
  };
}

export function resultToAstJson(r: ParseResult): unknown {
  return { ast: toAstJson(r.ast), escapeToken: r.escapeToken, warnings: r.warnings };
}
