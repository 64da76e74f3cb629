import { KilnError } from './errors.ts';

/**
 * Go's path.Match: `*` any run of non-slash characters, `?` one non-slash character,
 * `[...]` classes with ranges and `^`/`!` negation, `\` escapes. Throws on a malformed pattern.
 */
export function matchPattern(pattern: string, name: string): boolean {
  return new RegExp(`^${patternToRegExp(pattern)}$`, 'su').test(name);
}

export function hasWildcards(p: string): boolean {
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c === '\\') i++;
    else if (c === '*' || c === '?' || c === '[') return true;
  }
  return false;
}

function patternToRegExp(p: string): string {
  let re = '';
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '\\') {
      i++;
      if (i >= p.length) throw new KilnError(`syntax error in pattern ${JSON.stringify(p)}`, { kind: 'input' });
      re += escapeOutside(p[i]!);
    } else if (c === '[') {
      let j = i + 1;
      let cls = '';
      if (p[j] === '^' || p[j] === '!') {
        cls += '^';
        j++;
      }
      let closed = false;
      let first = true;
      for (; j < p.length; j++) {
        const d = p[j]!;
        if (d === ']' && !first) {
          closed = true;
          break;
        }
        first = false;
        if (d === '\\') {
          j++;
          if (j >= p.length) break;
          cls += escapeInClass(p[j]!);
        } else if (d === '-') cls += '-';
        else cls += escapeInClass(d);
      }
      if (!closed) throw new KilnError(`syntax error in pattern ${JSON.stringify(p)}`, { kind: 'input' });
      re += `(?:(?!/)[${cls}])`;
      i = j;
    } else re += escapeOutside(c);
  }
  return re;
}

/**
 * A literal character in a unicode-mode RegExp: only syntax characters may be escaped there
 * (`\-` outside a class is a syntax error), and inside a class `-` must be.
 */
function escapeOutside(c: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(c) ? `\\${c}` : c;
}

function escapeInClass(c: string): string {
  return /[\\^$.*+?()[\]{}|/-]/.test(c) ? `\\${c}` : c;
}
