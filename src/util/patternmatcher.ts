/**
 * .dockerignore semantics, exactly as moby/patternmatcher implements them: `readIgnoreFile`
 * (ignorefile.ReadAll) and `createPatternMatcher(patterns).matchesOrParentMatches(path)`
 * (New + MatchesOrParentMatches). Later patterns win; `!p` re-includes; a path is also
 * excluded when one of its parent directories is; `**` spans directories.
 */
import { KilnError } from './errors.ts';

/** Go's path.Clean. */
export function goClean(p: string): string {
  if (p === '') return '.';
  const rooted = p.startsWith('/');
  const out: string[] = [];
  for (const c of p.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') {
      if (out.length && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
    } else out.push(c);
  }
  const s = (rooted ? '/' : '') + out.join('/');
  return s === '' ? '.' : s;
}

/** The pattern list of a .dockerignore file (ignorefile.ReadAll). */
export function readIgnoreFile(text: string): string[] {
  const out: string[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  for (const line of lines) {
    if (line.startsWith('#')) continue;
    let p = line.trim();
    if (p === '') continue;
    const invert = p.startsWith('!');
    if (invert) p = p.slice(1).trim();
    if (p.length > 0) {
      p = goClean(p);
      if (p.length > 1 && p.startsWith('/')) p = p.slice(1);
    }
    out.push(invert ? `!${p}` : p);
  }
  return out;
}

/** Throws like Go's filepath.Match(pattern, ".") does for a malformed pattern. */
function validateGlob(p: string): void {
  const bad = () => new KilnError(`syntax error in pattern ${JSON.stringify(p)}`, { kind: 'input' });
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c === '\\') {
      if (++i >= p.length) throw bad();
    } else if (c === '[') {
      i++;
      if (p[i] === '^') i++;
      let n = 0;
      for (;;) {
        if (i >= p.length) throw bad();
        if (p[i] === ']' && n > 0) break;
        const esc = () => {
          if (p[i] === '-' || p[i] === ']') throw bad();
          if (p[i] === '\\') i++;
          if (i >= p.length) throw bad();
          i++;
        };
        esc();
        if (p[i] === '-') {
          i++;
          if (i >= p.length) throw bad();
          esc();
        }
        n++;
      }
    }
  }
}

type MatchType = 'exact' | 'prefix' | 'suffix' | 'regexp';

interface Pattern {
  cleaned: string;
  exclusion: boolean;
  type: MatchType;
  re?: RegExp;
}

// patternmatcher escapes only ( ) + $ . (its bitset drops | { } — kept as they behave).
const ESCAPE = new Set(['(', ')', '+', '$', '.']);

function compile(cleaned: string, exclusion: boolean): Pattern {
  let re = '^';
  let type: MatchType = 'exact';
  const chars = [...cleaned];
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    if (ch === '*') {
      if (chars[i + 1] === '*') {
        i++;
        if (chars[i + 1] === '/') i++;
        if (i + 1 >= chars.length) {
          if (type === 'exact') type = 'prefix';
          else {
            re += '.*';
            type = 'regexp';
          }
        } else {
          re += '(.*/)?';
          type = 'regexp';
        }
        if (i <= 2 && cleaned.startsWith('**')) type = 'suffix';
      } else {
        re += '[^/]*';
        type = 'regexp';
      }
    } else if (ch === '?') {
      re += '[^/]';
      type = 'regexp';
    } else if (ESCAPE.has(ch)) re += `\\${ch}`;
    else if (ch === '\\') {
      if (i + 1 < chars.length) {
        re += `\\${chars[++i]}`;
        type = 'regexp';
      } else re += '\\\\';
    } else if (ch === '[' || ch === ']') {
      re += ch;
      type = 'regexp';
    } else re += ch;
  }
  const p: Pattern = { cleaned, exclusion, type };
  if (type === 'regexp') {
    try {
      p.re = new RegExp(`${re}$`);
    } catch {
      // Go's regexp refuses the same patterns (an unclosed class, a bad escape): BuildKit fails too.
      throw new KilnError(`syntax error in pattern ${JSON.stringify(cleaned)}`, { kind: 'input' });
    }
  }
  return p;
}

function matchOne(p: Pattern, path: string): boolean {
  switch (p.type) {
    case 'exact':
      return path === p.cleaned;
    case 'prefix':
      return path.startsWith(p.cleaned.slice(0, -2));
    case 'suffix': {
      const suffix = p.cleaned.slice(2);
      if (path.endsWith(suffix)) return true;
      return suffix.startsWith('/') && path === suffix.slice(1);
    }
    default:
      return p.re!.test(path);
  }
}

export interface PatternMatcher {
  /** Whether `path` (slash-separated, relative to the context root) is excluded. */
  matchesOrParentMatches(path: string): boolean;
  /** Whether any pattern re-includes (`!`): excluded directories must then still be walked. */
  readonly exclusions: boolean;
  readonly patterns: readonly string[];
}

/** Compiles a pattern list; throws on an invalid pattern (a lone `!`, a bad `[`). */
export function createPatternMatcher(patterns: string[]): PatternMatcher {
  const compiled: Pattern[] = [];
  let exclusions = false;
  for (let p of patterns) {
    p = p.trim();
    if (p === '') continue;
    p = goClean(p);
    let exclusion = false;
    if (p.startsWith('!')) {
      if (p.length === 1) throw new KilnError('illegal exclusion pattern: "!"', { kind: 'input' });
      exclusion = true;
      exclusions = true;
      p = p.slice(1);
    }
    validateGlob(p);
    compiled.push(compile(p, exclusion));
  }
  return {
    exclusions,
    patterns,
    matchesOrParentMatches(file: string) {
      let matched = false;
      const parent = goClean(file.includes('/') ? file.slice(0, file.lastIndexOf('/')) : '.');
      const dirs = parent.split('/');
      for (const p of compiled) {
        if (p.exclusion !== matched) continue;
        let m = matchOne(p, file);
        if (!m && parent !== '.') {
          for (let i = 0; i < dirs.length; i++) {
            if (matchOne(p, dirs.slice(0, i + 1).join('/'))) {
              m = true;
              break;
            }
          }
        }
        if (m) matched = !p.exclusion;
      }
      return matched;
    },
  };
}

/**
 * How a tree is read under .dockerignore rules (what the context transfer of BuildKit
 * sends): `skip` — leave the path out, and for a directory everything under it; `walkOnly`
 * — an excluded directory that must still be walked because a `!` pattern may re-include
 * something in it (it exists only if something under it does). Paths are relative to the
 * context root; `prefix` is prepended (a subtree of the context).
 */
export interface IgnoreRules {
  skip(rel: string, isDir: boolean): boolean;
  walkOnly(rel: string): boolean;
}

export function ignoreRules(patterns: readonly string[] | undefined, prefix = ''): IgnoreRules {
  if (!patterns?.length) return { skip: () => false, walkOnly: () => false };
  const m = createPatternMatcher([...patterns]);
  const pre = prefix ? `${prefix.replace(/^\/+|\/+$/g, '')}/` : '';
  const excluded = (rel: string) => rel !== '' && m.matchesOrParentMatches(`${pre}${rel}`.replace(/^\/+/, ''));
  return {
    skip: (rel, isDir) => excluded(rel) && !(isDir && m.exclusions),
    walkOnly: (rel) => m.exclusions && excluded(rel),
  };
}
