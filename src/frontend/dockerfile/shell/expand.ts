/**
 * `$NAME` and `${NAME...}` expansion (BuildKit lex.go processDollar, processName, getEnv),
 * with BuildKit's error messages.
 */
import { isDigit, isLetter } from './go-unicode.ts';
import { next, peek, runeString } from './lex-state.ts';
import type { Ctx, State } from './lex-state.ts';
import { replacePattern, trimPrefix, trimSuffix } from './pattern.ts';

const SPECIAL_PARAMS = new Set(['@', '*', '#', '?', '-', '$', '!', '0']);

function getEnv(st: State, name: string): [string, boolean] {
  const v = st.env.get(name);
  if (v !== undefined) {
    if (st.capture) st.matched.add(name);
    return [v, true];
  }
  if (st.capture) st.unmatched.add(name);
  return ['', false];
}

function processName(st: State): string {
  let name = '';
  for (let ch = peek(st); ch !== null; ch = peek(st)) {
    if (name === '' && isDigit(ch)) {
      while (peek(st) !== null && isDigit(peek(st)!)) name += next(st);
      return name;
    }
    if (name === '' && SPECIAL_PARAMS.has(ch)) return next(st)!;
    if (!isLetter(ch) && !isDigit(ch) && ch !== '_') break;
    name += next(st);
  }
  return name;
}

export function processDollar(ctx: Ctx, st: State): string {
  next(st);
  if (peek(st) !== '{') {
    const name = processName(st);
    if (name === '') return '$';
    const [value, found] = getEnv(st, name);
    if (!found && ctx.skipUnsetEnv) return '$' + name;
    return value;
  }
  next(st);
  const first = peek(st);
  if (first === null) throw new Error("syntax error: missing '}'");
  if (first === '{' || first === '}' || first === ':') throw new Error('syntax error: bad substitution');
  const name = processName(st);
  let ch = next(st);
  let chs = runeString(ch);
  if (ch === '}') {
    const [value, set] = getEnv(st, name);
    if (!set && ctx.skipUnsetEnv) return `\${${name}}`;
    return value;
  }
  if (ch === '/') return processReplace(ctx, st, name);
  let nullIsUnset = false;
  if (ch === ':') {
    nullIsUnset = true;
    ch = next(st);
    chs += runeString(ch);
  } else if (ch !== '+' && ch !== '-' && ch !== '?' && ch !== '#' && ch !== '%') {
    throw new Error(`unsupported modifier (${chs}) in substitution`);
  }
  const rawEscapes = ch === '#' || ch === '%';
  if (nullIsUnset && rawEscapes) throw new Error(`unsupported modifier (${chs}) in substitution`);
  let word: string;
  try {
    word = ctx.stopOn(st, '}', rawEscapes)[0];
  } catch (err) {
    if (peek(st) === null) throw new Error("syntax error: missing '}'");
    throw err;
  }
  const [value, set] = getEnv(st, name);
  if (ctx.skipUnsetEnv && !set) return `\${${name}${chs}${word}}`;
  const unset = !set || (nullIsUnset && value === '');
  switch (ch) {
    case '-':
      return unset ? word : value;
    case '+':
      return unset ? '' : word;
    case '?':
      if (!set) throw new Error(`${name}: ${word !== '' ? word : 'is not allowed to be unset'}`);
      if (nullIsUnset && value === '') throw new Error(`${name}: ${word !== '' ? word : 'is not allowed to be empty'}`);
      return value;
    case '%':
    case '#': {
      const greedy = word.startsWith(ch);
      const pattern = greedy ? word.slice(1) : word;
      return ch === '%' ? trimSuffix(pattern, value, greedy) : trimPrefix(pattern, value, greedy);
    }
    default:
      throw new Error(`unsupported modifier (${chs}) in substitution`);
  }
}

function processReplace(ctx: Ctx, st: State, name: string): string {
  const all = peek(st) === '/';
  if (all) next(st);
  let pattern: string;
  try {
    pattern = ctx.stopOn(st, '/', true)[0];
  } catch (err) {
    if (peek(st) === null) throw new Error("syntax error: missing '/' in ${}");
    throw err;
  }
  let replacement: string;
  try {
    replacement = ctx.stopOn(st, '}', true)[0];
  } catch (err) {
    if (peek(st) === null) throw new Error("syntax error: missing '}'");
    throw err;
  }
  const [value, set] = getEnv(st, name);
  if (ctx.skipUnsetEnv && !set) return `\${${name}/${pattern}/${replacement}}`;
  return replacePattern(pattern, replacement, value, all);
}
