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
