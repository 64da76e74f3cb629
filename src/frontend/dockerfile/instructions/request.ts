/**
 * What every instruction parser receives: the node's arguments flattened (BuildKit's
 * parseRequest), its flags ready to declare, and the common command fields.
 */

import type { Node } from '../parser/node.ts';
import type { CommandKind } from './types.ts';
import { createBFlags, type BFlags } from './bflags.ts';

export interface ParseRequest {
  /** The keyword as written. */
  command: string;
  args: string[];
  node: Node;
  flags: BFlags;
}

/** BuildKit's nodeArgs: argument values; a nested instruction (ONBUILD) contributes its keyword and args. */
export function nodeArgs(node: Node): string[] {
  const out: string[] = [];
  for (const arg of node.next) {
    if (arg.children.length === 0) out.push(arg.value);
    else if (arg.children.length === 1) {
      const sub = arg.children[0]!;
      out.push(sub.value, ...nodeArgs(sub));
    }
  }
  return out;
}

export function newRequest(node: Node): ParseRequest {
  return { command: node.value, args: nodeArgs(node), node, flags: createBFlags(node.flags) };
}

/** The fields every command carries. */
export function base<K extends CommandKind>(req: ParseRequest, kind: K) {
  return {
    kind,
    name: kind,
    location: { startLine: req.node.startLine, endLine: req.node.endLine },
    original: req.node.original.trim(),
    comments: [...req.node.prevComment],
  };
}

/** BuildKit's handleJSONArgs: exec form as is, shell form joined into one string. */
export function handleJsonArgs(args: string[], json: boolean): string[] {
  if (args.length === 0) return [];
  if (json) return args;
  return [args.join(' ')];
}

/** BuildKit's getDocComment: the rest of the first comment line starting with `name `. */
export function docComment(comments: readonly string[], name: string): string | undefined {
  if (name === '') return undefined;
  for (const line of comments) {
    if (line.startsWith(name + ' ')) return line.slice(name.length + 1);
  }
  return undefined;
}

export const errAtLeastOneArgument = (c: string) => new Error(`${c} requires at least one argument`);
export const errExactlyOneArgument = (c: string) => new Error(`${c} requires exactly one argument`);
export const errNoDestinationArgument = (c: string) =>
  new Error(`${c} requires at least two arguments, but only one was provided. Destination could not be determined`);
export const errBlankCommandNames = (c: string) => new Error(`${c} names can not be blank`);
export const errTooManyArguments = (c: string) => new Error(`Bad input to ${c}, too many arguments`);
