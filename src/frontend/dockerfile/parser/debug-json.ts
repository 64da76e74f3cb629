/** The JSON that `kiln debug parse` prints for a parsed Dockerfile. */
import type { ParseResult } from './node.ts';

export interface DebugHeredoc {
  name: string;
  content: string;
  expand: boolean;
  chomp: boolean;
}

export interface DebugInstruction {
  /** The keyword, lower-cased. */
  name: string;
  flags: string[];
  /** The argument node values; for ONBUILD, the trigger's original text. */
  args: string[];
  json: boolean;
  heredocs: DebugHeredoc[];
  startLine: number;
  endLine: number;
}

/** One object per instruction, in order; plain data, stable key order. */
export function toDebugJson(result: ParseResult): DebugInstruction[] {
  return result.ast.children.map((node) => {
    const trigger = node.value.toLowerCase() === 'onbuild' ? node.next[0]?.children[0] : undefined;
    return {
      name: node.value.toLowerCase(),
      flags: [...node.flags],
      args: trigger ? [trigger.original] : node.next.map((n) => n.value),
      json: node.json,
      heredocs: node.heredocs.map((h) => ({ name: h.name, content: h.content, expand: h.expand, chomp: h.chomp })),
      startLine: node.startLine,
      endLine: node.endLine,
    };
  });
}
