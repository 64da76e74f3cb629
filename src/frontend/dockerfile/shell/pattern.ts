/**
 * Shell glob patterns of `${VAR#p}`, `${VAR%p}`, `${VAR/p/r}` (BuildKit lex.go:
 * convertShellPatternToRegex, trimPrefix, trimSuffix and Go's regexp replace semantics).
 * `*` is any string (shortest or longest), `?` one character, `\` escapes `* ? \`;
 * no bracket expressions. Like Go's regexp, `.` never matches a newline.
 */
import { isDigit, isLetter } from './go-unicode.ts';
import { checkExpansion } from './lex-state.ts';

/** One step of a pattern: a literal code point, `?` (one code point), `*` (a run). Neither crosses a newline, as Go's `.`. */
type Token = { t: 'lit'; c: string } | { t: 'any' } | { t: 'star' };

/** A compiled pattern; `greedy`: a `*` takes as much as it can (else as little). */
export interface ShellPattern {
  tokens: Token[];
  greedy: boolean;
}

/**
 * At most this many thread steps per match: the matcher is linear in the value for a given
 * pattern (a Pike VM, as Go's RE2 is), so only a huge pattern against a huge value reaches it.
 */
export const MAX_PATTERN_STEPS = 50_000_000;

/** Code points of `s`, minus a leading BOM (Go's text/scanner drops it). */
export function scanChars(s: string): string[] {
  const chars = Array.from(s);
  if (chars[0] === '\uFEFF') chars.shift();
  return chars;
}

/** Throws `invalid escape '\x'` for an escape of anything but `* ? \` (and `}` `/`, dropped). */
export function compileShellPattern(pattern: string, greedy: boolean): ShellPattern {
  const chars = scanChars(pattern);
  const tokens: Token[] = [];
  for (let i = 0; i < chars.length; i++) {
    let tok = chars[i]!;
    if (tok === '*') {
      if (tokens[tokens.length - 1]?.t !== 'star') tokens.push({ t: 'star' }); // ** is *
      continue;
    }
    if (tok === '?') {
      tokens.push({ t: 'any' });
      continue;
    }
    if (tok === '\\') {
      const peek = chars[i + 1];
      if (peek === '}' || peek === '/') continue;
      i++;
      tok = chars[i] ?? '\uFFFD';
      if (tok !== '*' && tok !== '?' && tok !== '\\') throw new Error(`invalid escape '\\${tok}'`);
    }
    tokens.push({ t: 'lit', c: tok });
  }
  return { tokens, greedy };
}

/**
 * The leftmost-first match of `p` in `s` starting at `from` or later (only at `from` when
 * `anchored`), as [start, end) UTF-16 offsets: a Pike VM over code points, with threads in
 * priority order as Go's regexp runs them (a greedy `*` prefers to take one more).
 */
function leftmost(p: ShellPattern, s: string, from: number, anchored: boolean): [number, number] | null {
  const { tokens } = p;
  const end = tokens.length;
  const mark = new Int32Array(end + 1).fill(-1);
  let gen = 0;
  let budget = MAX_PATTERN_STEPS;
  const add = (list: number[], starts: number[], pc: number, start: number) => {
    if (mark[pc] === gen) return;
    mark[pc] = gen;
    if (pc < end && tokens[pc]!.t === 'star') {
      // A thread waiting in the star (it consumes and stays), and one past it.
      if (p.greedy) {
        list.push(pc);
        starts.push(start);
        add(list, starts, pc + 1, start);
      } else {
        add(list, starts, pc + 1, start);
        list.push(pc);
        starts.push(start);
      }
      return;
    }
    list.push(pc);
    starts.push(start);
  };
  let cur: number[] = [];
  let curStarts: number[] = [];
  let matched: [number, number] | null = null;
  gen++;
  for (let pos = from; ; ) {
    if (!matched && (pos === from || !anchored)) add(cur, curStarts, 0, pos);
    if (cur.length === 0) break;
    const cp = pos < s.length ? s.codePointAt(pos)! : -1;
    const c = cp < 0 ? '' : String.fromCodePoint(cp);
    const next: number[] = [];
    const nextStarts: number[] = [];
    gen++;
    for (let k = 0; k < cur.length; k++) {
      if (--budget < 0) throw new Error('pattern too costly to match');
      const pc = cur[k]!;
      if (pc === end) {
        matched = [curStarts[k]!, pos];
        break; // threads after this one have lower priority
      }
      if (cp < 0) continue;
      const tok = tokens[pc]!;
      if (tok.t === 'lit' ? tok.c === c : c !== '\n') add(next, nextStarts, tok.t === 'star' ? pc : pc + 1, curStarts[k]!);
    }
    if (cp < 0) break;
    cur = next;
    curStarts = nextStarts;
    pos += c.length;
  }
  return matched;
}

function compiled(pattern: string, greedy: boolean): ShellPattern {
  try {
    return compileShellPattern(pattern, greedy);
  } catch (err) {
    throw new Error(`invalid pattern (${pattern}) in substitution: ${(err as Error).message}`);
  }
}

/** `${VAR#p}` / `${VAR##p}`: remove the shortest (longest) matching prefix. */
export function trimPrefix(pattern: string, value: string, greedy: boolean): string {
  const m = leftmost(compiled(pattern, greedy), value, 0, true);
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
  const re = compiled(pattern, true);
  if (!all) {
    const m = leftmost(re, value, 0, false);
    return m ? value.slice(0, m[0]) + replacement + value.slice(m[1]) : value;
  }
  return goReplaceAll(re, value, replacement);
}

/** Go `Regexp.ReplaceAllString`: `$` templates, and no empty match right after a match. */
function goReplaceAll(re: ShellPattern, src: string, template: string): string {
  let out = '';
  let lastMatchEnd = 0;
  let searchPos = 0;
  while (searchPos <= src.length) {
    const m = leftmost(re, src, searchPos, false);
    if (!m) break;
    out += src.slice(lastMatchEnd, m[0]);
    if (m[1] > lastMatchEnd || m[0] === 0) out = checkExpansion(out + expandTemplate(template, src.slice(m[0], m[1])));
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
