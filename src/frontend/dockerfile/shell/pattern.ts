/**
 * Shell glob patterns of `${VAR#p}`, `${VAR%p}`, `${VAR/p/r}` (BuildKit lex.go:
 * convertShellPatternToRegex, trimPrefix, trimSuffix and Go's regexp replace semantics).
 * `*` is any string (shortest or longest), `?` one character, `\` escapes `* ? \`;
 * no bracket expressions. Like Go's regexp, `.` never matches a newline.
 */
import { isDigit, isLetter } from './go-unicode.ts';

const REGEX_SPECIAL = new Set(['[', ']', '{', '}', '.', '+', '(', ')', '|', '^', '$']);
const ANY = '[^\\n]';

/** Code points of `s`, minus a leading BOM (Go's text/scanner drops it). */
export function scanChars(s: string): string[] {
  const chars = Array.from(s);
  if (chars[0] === '\uFEFF') chars.shift();
  return chars;
}

/** Throws `invalid escape '\x'` for an escape of anything but `* ? \` (and `}` `/`, dropped). */
export function shellPatternToRegex(pattern: string, greedy: boolean, anchored: boolean): RegExp {
  const chars = scanChars(pattern);
  let out = anchored ? '^' : '';
  const star = greedy ? `${ANY}*` : `${ANY}*?`;
  for (let i = 0; i < chars.length; i++) {
    let tok = chars[i]!;
    if (tok === '*') {
      out += star;
      continue;
    }
    if (tok === '?') {
      out += ANY;
      continue;
    }
    if (tok === '\\') {
      const peek = chars[i + 1];
      if (peek === '}' || peek === '/') continue;
      out += '\\';
      i++;
      tok = chars[i] ?? '\uFFFD';
      if (tok !== '*' && tok !== '?' && tok !== '\\') throw new Error(`invalid escape '\\${tok}'`);
    } else if (REGEX_SPECIAL.has(tok)) {
      out += '\\';
    }
    out += tok;
  }
  return new RegExp(out, 'gu');
}

function leftmost(re: RegExp, s: string, from: number): [number, number] | null {
  re.lastIndex = from;
  const m = re.exec(s);
  return m ? [m.index, m.index + m[0].length] : null;
}

/** `${VAR#p}` / `${VAR##p}`: remove the shortest (longest) matching prefix. */
export function trimPrefix(pattern: string, value: string, greedy: boolean): string {
  let re: RegExp;
  try {
    re = shellPatternToRegex(pattern, greedy, true);
  } catch (err) {
    throw new Error(`invalid pattern (${pattern}) in substitution: ${(err as Error).message}`);
  }
  const m = leftmost(re, value, 0);
  return m ? value.slice(m[1]) : value;
}

/** Reverses a pattern but keeps escape pairs in order (`a\*c` → `c\*a`). */
function reversePattern(pattern: string): string {
  const chars = Array.from(pattern);
  const out: string[] = new Array(chars.length);
  const last = chars.length - 1;
  for (let i = 0; i <= last; ) {
    const tok = chars[i]!;
    const o = last - i;
    if (tok === '\\' && i !== last) {
      out[o - 1] = tok;
      out[o] = chars[i + 1]!;
      i += 2;
    } else {
      out[o] = tok;
      i++;
    }
  }
  return out.join('');
}

function reverseString(s: string): string {
  return Array.from(s).reverse().join('');
}

/** `${VAR%p}` / `${VAR%%p}`: remove the shortest (longest) matching suffix. */
export function trimSuffix(pattern: string, value: string, greedy: boolean): string {
  return reverseString(trimPrefix(reversePattern(pattern), reverseString(value), greedy));
}

/** `${VAR/p/r}` and `${VAR//p/r}`. Errors as BuildKit words them. */
export function replacePattern(pattern: string, replacement: string, value: string, all: boolean): string {
  let re: RegExp;
  try {
    re = shellPatternToRegex(pattern, true, false);
  } catch (err) {
    throw new Error(`invalid pattern (${pattern}) in substitution: ${(err as Error).message}`);
  }
  if (!all) {
    const m = leftmost(re, value, 0);
    return m ? value.slice(0, m[0]) + replacement + value.slice(m[1]) : value;
  }
  return goReplaceAll(re, value, replacement);
}

/** Go `Regexp.ReplaceAllString`: `$` templates, and no empty match right after a match. */
function goReplaceAll(re: RegExp, src: string, template: string): string {
  let out = '';
  let lastMatchEnd = 0;
  let searchPos = 0;
  while (searchPos <= src.length) {
    const m = leftmost(re, src, searchPos);
    if (!m) break;
    out += src.slice(lastMatchEnd, m[0]);
    if (m[1] > lastMatchEnd || m[0] === 0) out += expandTemplate(template, src.slice(m[0], m[1]));
    lastMatchEnd = m[1];
    const cp = src.codePointAt(searchPos);
    const width = cp === undefined ? 0 : cp > 0xffff ? 2 : 1;
    if (searchPos + width > m[1]) searchPos += width;
    else if (searchPos + 1 > m[1]) searchPos++;
    else searchPos = m[1];
  }
  return out + src.slice(lastMatchEnd);
}

/** Go `Regexp.Expand` for a regexp without groups: `$0`/`${0}` is the match, `$$` is `$`. */
function expandTemplate(template: string, match: string): string {
  let out = '';
  let rest = template;
  for (;;) {
    const at = rest.indexOf('$');
    if (at < 0) break;
    out += rest.slice(0, at);
    rest = rest.slice(at + 1);
    if (rest.startsWith('$')) {
      out += '$';
      rest = rest.slice(1);
      continue;
    }
    const ref = extractRef(rest);
    if (!ref) {
      out += '$';
      continue;
    }
    rest = ref.rest;
    if (ref.num === 0) out += match;
  }
  return out + rest;
}

function extractRef(str: string): { num: number; rest: string } | null {
  const brace = str.startsWith('{');
  const chars = Array.from(brace ? str.slice(1) : str);
  let n = 0;
  while (n < chars.length && (isLetter(chars[n]!) || isDigit(chars[n]!) || chars[n] === '_')) n++;
  if (n === 0) return null;
  const name = chars.slice(0, n).join('');
  let consumed = (brace ? 1 : 0) + name.length;
  if (brace) {
    if (chars[n] !== '}') return null;
    consumed++;
  }
  let num = /^[0-9]+$/.test(name) && name.length <= 9 ? Number(name) : -1;
  if (name.length > 1 && name.startsWith('0')) num = -1;
  return { num, rest: str.slice(consumed) };
}
