/**
 * Here-document detection for RUN, COPY and ADD (BuildKit parser.go: ParseHeredoc,
 * heredocsFromLine, ChompHeredocContent). Words are found with the shell lexer in raw mode;
 * a quoted delimiter (any quote in it) disables expansion of the body.
 */
import { createLexer } from '../shell/index.ts';
import type { Heredoc } from './node.ts';

const HEREDOC_RE = /^(\d*)<<(-?)[\t\n\f\r ]*([^<]*)$/;
const NO_ENV: ReadonlyMap<string, string> = new Map();

const cookedLexer = createLexer('\\', { skipUnsetEnv: true });
const rawQuoteLexer = createLexer('\\', { skipUnsetEnv: true, rawQuotes: true });
const lineLexer = createLexer('\\', { skipUnsetEnv: true, rawQuotes: true, rawEscapes: true });

const countQuotes = (s: string) => s.split("'").length + s.split('"').length - 2;

/** Go `strconv.ParseUint(s, 10, 0)` with the error ignored (overflow gives the maximum). */
function fileDescriptor(digits: string): number {
  if (digits === '') return 0;
  const n = BigInt(digits);
  return Number(n > 0xffffffffffffffffn ? 0xffffffffffffffffn : n);
}

/**
 * The heredoc described by one word such as `<<EOF`, `<<-"EOF"` or `3<<EOF`, or null when the
 * word is not a heredoc. `content` is ''. Throws when the delimiter cannot be lexed.
 */
export function parseHeredoc(word: string): Heredoc | null {
  const m = HEREDOC_RE.exec(word);
  if (!m) return null;
  const rest = m[3]!;
  if (rest === '') return null;
  const words = cookedLexer.processWords(rest, NO_ENV);
  if (words.length !== 1) return null;
  const raw = rawQuoteLexer.processWords(rest, NO_ENV);
  if (raw.length !== words.length) {
    throw new Error(`internal lexing of heredoc produced inconsistent results: ${rest}`);
  }
  return {
    name: words[0]!,
    fileDescriptor: fileDescriptor(m[1]!),
    expand: countQuotes(words[0]!) === countQuotes(raw[0]!),
    chomp: m[2] === '-',
    content: '',
  };
}

/** Every heredoc started on an instruction line, in order (bodies empty). */
export function heredocsFromLine(line: string): Heredoc[] {
  let words: string[];
  try {
    words = lineLexer.processWords(line, NO_ENV);
  } catch {
    words = [];
  }
  const docs: Heredoc[] = [];
  for (const w of words) {
    const doc = parseHeredoc(w);
    if (doc) docs.push(doc);
  }
  return docs;
}

/** Removes leading tabs from every line (for `<<-` heredocs). */
export function chompHeredocContent(src: string): string {
  return src
    .split('\n')
    .map((l) => l.replace(/^\t+/, ''))
    .join('\n');
}
