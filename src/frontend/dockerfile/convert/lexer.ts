import { createLexer } from '../shell/index.ts';
import type { Expander } from '../instructions/index.ts';

export type Lexer = ReturnType<typeof createLexer>;
export { createLexer };

/** An Expander over a fixed environment. */
export function expanderFor(lex: Lexer, env: ReadonlyMap<string, string>): Expander {
  return {
    word: (s) => lex.processWord(s, env),
    words: (s) => lex.processWords(s, env),
  };
}
