/**
 * The Dockerfile shell lexer: quote removal, escapes and `$VAR` / `${VAR...}` expansion,
 * a port of BuildKit's frontend/dockerfile/shell/lex.go with the same results and error
 * messages, including its quirks (for example a nested `${V:-w}` resets the pending word of
 * ProcessWords). A lexer is stateless between calls and safe to share.
 */
import { processDollar } from './expand.ts';
import { goQuote, isSpace } from './go-unicode.ts';
import { checkExpansion, next, peek } from './lex-state.ts';
import type { Ctx, State } from './lex-state.ts';
import { scanChars } from './pattern.ts';

export interface LexerOptions {
  /** Keep quote characters in the result (BuildKit `RawQuotes`). */
  rawQuotes?: boolean;
  /** Keep escape characters in the result (BuildKit `RawEscapes`). */
  rawEscapes?: boolean;
  /** Treat quotes as ordinary characters (BuildKit `SkipProcessQuotes`). */
  skipProcessQuotes?: boolean;
  /** Leave references to unset variables as written (BuildKit `SkipUnsetEnv`). */
  skipUnsetEnv?: boolean;
}

export interface ProcessWordResult {
  result: string;
  /** Referenced variables that were set (also when set to ''). */
  matched: Set<string>;
  /** Referenced variables that were not set. */
  unmatched: Set<string>;
}

export interface Lexer {
  readonly escapeToken: string;
  /** One word: quotes removed, variables expanded, no splitting. Throws on syntax errors. */
  processWord(word: string, env: ReadonlyMap<string, string>): string;
  /** Like processWord, then split on unquoted whitespace (unquoted expansions split too). */
  processWords(word: string, env: ReadonlyMap<string, string>): string[];
  processWordWithMatches(word: string, env: ReadonlyMap<string, string>): ProcessWordResult;
}

/** `escapeToken` is `\` (default) or a backtick. Options as BuildKit's Lex fields. */
export function createLexer(escapeToken = '\\', options: LexerOptions = {}): Lexer {
  const ctx: Ctx = {
    escape: escapeToken,
    stopOn: (st, stopChar, rawEscapes) => processStopOn(ctx, st, stopChar, rawEscapes),
    rawQuotes: options.rawQuotes ?? false,
    rawEscapes: options.rawEscapes ?? false,
    skipProcessQuotes: options.skipProcessQuotes ?? false,
    skipUnsetEnv: options.skipUnsetEnv ?? false,
  };
  function run(word: string, env: ReadonlyMap<string, string>, capture: boolean) {
    const st: State = {
      chars: scanChars(word),
      pos: 0,
      env,
      capture,
      rawEscapes: ctx.rawEscapes,
      wordsBuffer: { s: '' },
      matched: new Set(),
      unmatched: new Set(),
    };
    try {
      const [result, words] = processStopOn(ctx, st, null, ctx.rawEscapes);
      return { result, words, matched: st.matched, unmatched: st.unmatched };
    } catch (err) {
      throw new Error(`failed to process ${goQuote(word)}: ${(err as Error).message}`);
    }
  }
  return {
    escapeToken,
    processWord: function processWord(word, env) {
      return run(word, env, true).result;
    },
    processWords: function processWords(word, env) {
      return run(word, env, false).words;
    },
    processWordWithMatches: function processWordWithMatches(word, env) {
      const { result, matched, unmatched } = run(word, env, true);
      return { result, matched, unmatched };
    },
  };
}

function createWords(buf: { s: string }) {
  const words: string[] = [];
  let inWord = false;
  const addRawChar = (c: string) => {
    buf.s += c;
    inWord = true;
  };
  const addChar = (c: string) => {
    if (isSpace(c)) {
      if (inWord && buf.s.length !== 0) {
        words.push(buf.s);
        buf.s = '';
        inWord = false;
      }
    } else addRawChar(c);
  };
  return {
    addChar,
    addRawChar,
    addString: (s: string) => {
      for (const c of s) addChar(c);
    },
    addRawString: (s: string) => {
      buf.s += s;
      inWord = true;
    },
    getWords: () => {
      if (buf.s.length > 0) {
        words.push(buf.s);
        buf.s = '';
        inWord = false;
      }
      return words;
    },
  };
}

function processStopOn(ctx: Ctx, st: State, stopChar: string | null, rawEscapes: boolean): [string, string[]] {
  let result = '';
  st.wordsBuffer.s = '';
  const words = createWords(st.wordsBuffer);
  const saved = st.rawEscapes;
  st.rawEscapes = rawEscapes;
  try {
    for (let ch = peek(st); ch !== null; ch = peek(st)) {
      if (stopChar !== null && ch === stopChar) {
        next(st);
        return [result, words.getWords()];
      }
      const fn = special(ctx, ch);
      if (fn) {
        const tmp = fn(ctx, st);
        result = checkExpansion(result + tmp);
        if (ch === '$') words.addString(tmp);
        else words.addRawString(tmp);
        continue;
      }
      let c = next(st)!;
      if (c === ctx.escape) {
        if (st.rawEscapes) {
          words.addRawChar(c);
          result += c;
        }
        const escaped = next(st);
        if (escaped === null) break;
        c = escaped;
        words.addRawChar(c);
      } else {
        words.addChar(c);
      }
      result += c;
    }
    if (stopChar !== null) throw new Error(`unexpected end of statement while looking for matching ${stopChar}`);
    return [result, words.getWords()];
  } finally {
    st.rawEscapes = saved;
  }
}

type CharFn = (ctx: Ctx, st: State) => string;

function special(ctx: Ctx, ch: string): CharFn | undefined {
  if (ch === '$') return processDollar;
  if (ch === '<') return processPossibleHeredoc;
  if (!ctx.skipProcessQuotes) {
    if (ch === "'") return processSingleQuote;
    if (ch === '"') return processDoubleQuote;
  }
  return undefined;
}

function processSingleQuote(ctx: Ctx, st: State): string {
  let result = '';
  const open = next(st)!;
  if (ctx.rawQuotes) result += open;
  for (;;) {
    const ch = next(st);
    if (ch === null) throw new Error('unexpected end of statement while looking for matching single-quote');
    if (ch === "'") {
      if (ctx.rawQuotes) result += ch;
      return result;
    }
    result += ch;
  }
}

function processDoubleQuote(ctx: Ctx, st: State): string {
  let result = '';
  const open = next(st)!;
  if (ctx.rawQuotes) result += open;
  for (;;) {
    const p = peek(st);
    if (p === null) throw new Error('unexpected end of statement while looking for matching double-quote');
    if (p === '"') {
      next(st);
      if (ctx.rawQuotes) result += p;
      return result;
    }
    if (p === '$') {
      result = checkExpansion(result + processDollar(ctx, st));
      continue;
    }
    let ch = next(st)!;
    if (ch === ctx.escape) {
      if (st.rawEscapes) result += ch;
      const after = peek(st);
      if (after === null) continue;
      if (after === '"' || after === '$' || after === ctx.escape) ch = next(st)!;
    }
    result += ch;
  }
}

function processPossibleHeredoc(_ctx: Ctx, st: State): string {
  next(st);
  if (peek(st) !== '<') return '<';
  next(st);
  let result = '<<';
  for (let c = peek(st); c === '\t' || c === '\r' || c === ' '; c = peek(st)) result += next(st);
  return result;
}
