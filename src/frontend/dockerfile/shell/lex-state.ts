import type { LexerOptions } from './lex.ts';

/** Internal state shared by the lexer files (one instance per processWord call). */

export interface State {
  chars: string[];
  pos: number;
  env: ReadonlyMap<string, string>;
  capture: boolean;
  rawEscapes: boolean;
  /** Shared by every (nested) processStopOn call, as in BuildKit. */
  wordsBuffer: { s: string };
  matched: Set<string>;
  unmatched: Set<string>;
}

export type Ctx = Required<LexerOptions> & {
  escape: string;
  /** processStopOn, handed to the expansion code (avoids an import cycle). */
  stopOn: (st: State, stopChar: string | null, rawEscapes: boolean) => [string, string[]];
};

/**
 * The longest word an expansion may produce: 1 MiB (in UTF-16 units). Far beyond any real
 * value, and it stops a Dockerfile whose variables double each other from taking the
 * machine's memory (ARG B=$A$A, ARG C=$B$B, ... 40 deep is 2^40 characters).
 */
export const MAX_EXPANSION = 1 << 20;

/** Throws when an expansion result grew past MAX_EXPANSION. */
export function checkExpansion(s: string): string {
  if (s.length > MAX_EXPANSION) throw new Error(`the expansion is longer than ${MAX_EXPANSION} characters (1 MiB), the limit`);
  return s;
}

export function peek(st: State): string | null {
  return st.chars[st.pos] ?? null;
}

export function next(st: State): string | null {
  const c = st.chars[st.pos] ?? null;
  if (c !== null) st.pos++;
  return c;
}

/** Go's `string(rune)` of a scanner result: EOF (-1) prints as U+FFFD. */
export function runeString(c: string | null): string {
  return c ?? '\uFFFD';
}
