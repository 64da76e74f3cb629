/**
 * Go's `unicode` predicates (IsSpace, IsLetter, IsDigit, IsPrint) and `strconv.Quote`, which
 * BuildKit's lexer and parser use. JavaScript's `\s` and friends differ from Go's at the edges
 * (U+0085, U+FEFF), so kiln uses these wherever BuildKit calls the Go ones.
 * All functions take one code point as a string (what `for (const c of s)` yields).
 */

const WHITE_SPACE = /^\p{White_Space}$/u;
const LETTER = /^\p{L}$/u;
const DIGIT = /^\p{Nd}$/u;
const PRINT = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

/** Go `unicode.IsSpace`. */
export function isSpace(c: string): boolean {
  const cp = c.codePointAt(0) ?? -1;
  if (cp <= 0xff) {
    return cp === 0x20 || (cp >= 0x09 && cp <= 0x0d) || cp === 0x85 || cp === 0xa0;
  }
  return WHITE_SPACE.test(c);
}

/** Go `unicode.IsLetter`. */
export function isLetter(c: string): boolean {
  return LETTER.test(c);
}

/** Go `unicode.IsDigit` (any decimal digit, not only ASCII). */
export function isDigit(c: string): boolean {
  return DIGIT.test(c);
}

/** Go `strings.TrimLeftFunc(s, unicode.IsSpace)`. */
export function trimLeftSpace(s: string): string {
  let i = 0;
  for (const c of s) {
    if (!isSpace(c)) break;
    i += c.length;
  }
  return s.slice(i);
}

/** Go `strings.TrimRightFunc(s, unicode.IsSpace)`. */
export function trimRightSpace(s: string): string {
  const chars = Array.from(s);
  let end = chars.length;
  while (end > 0 && isSpace(chars[end - 1]!)) end--;
  return chars.slice(0, end).join('');
}

/** Go `strings.TrimSpace`. */
export function trimSpace(s: string): string {
  return trimRightSpace(trimLeftSpace(s));
}

const SHORT_ESCAPES: Record<string, string> = {
  '\x07': '\\a',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\v': '\\v',
};

/** Go `strconv.Quote`: double-quoted, Go escapes, printable non-ASCII kept as is. */
export function goQuote(s: string): string {
  let out = '"';
  for (const c of s) {
    const cp = c.codePointAt(0)!;
    if (c === '"' || c === '\\') out += '\\' + c;
    else if (PRINT.test(c)) out += c;
    else if (SHORT_ESCAPES[c] !== undefined) out += SHORT_ESCAPES[c];
    else if (cp < 0x20 || cp === 0x7f) out += '\\x' + cp.toString(16).padStart(2, '0');
    else if (cp < 0x10000) out += '\\u' + cp.toString(16).padStart(4, '0');
    else out += '\\U' + cp.toString(16).padStart(8, '0');
  }
  return out + '"';
}

/** Go `fmt.Sprintf("%q", []string{...})`: `["a" "b"]`. */
export function goQuoteList(list: readonly string[]): string {
  return '[' + list.map(goQuote).join(' ') + ']';
}
