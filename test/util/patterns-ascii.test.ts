/**
 * Every printable ASCII character through each pattern compiler kiln has: Go's path.Match
 * (COPY/ADD wildcards), moby's patternmatcher (.dockerignore, --exclude) and the shell's
 * `${VAR#pattern}`. Each must match itself literally (escaped where it is a metacharacter),
 * inside a bracket class, and never throw a JavaScript RegExp error. The bug this keeps away:
 * `COPY package.json package-lock.json* ./` failed with "Invalid regular expression".
 */
import { describe, expect, test } from 'bun:test';
import { matchPattern } from '../../src/util/glob.ts';
import { createPatternMatcher } from '../../src/util/patternmatcher.ts';
import { trimPrefix } from '../../src/frontend/dockerfile/shell/pattern.ts';

const printable = Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i));
/** Path components never hold a slash. */
const inNames = printable.filter((c) => c !== '/');

describe('path.Match (COPY wildcards)', () => {
  test('the standard Node line', () => {
    expect(matchPattern('package-lock.json*', 'package-lock.json')).toBe(true);
    expect(matchPattern('package-lock.json*', 'package.json')).toBe(false);
  });
  for (const c of inNames) {
    test(`${JSON.stringify(c)}: literal, escaped, in a class, negated`, () => {
      const lit = '*?[\\'.includes(c) ? `\\${c}` : c;
      expect(matchPattern(`a${lit}b`, `a${c}b`)).toBe(true);
      expect(matchPattern(`a${lit}b`, 'a_b')).toBe(c === '_');
      expect(matchPattern(`a${lit}*`, `a${c}tail`)).toBe(true);
      expect(matchPattern(`\\${c}`, c)).toBe(true);
      expect(matchPattern(`[\\${c}]`, c)).toBe(true);
      expect(matchPattern(`x[\\${c}]`, 'xQ')).toBe(c === 'Q');
      if (!'\\]-^!'.includes(c)) expect(matchPattern(`[${c}]`, c)).toBe(true);
      expect(matchPattern(`[!\\${c}]`, c)).toBe(false);
      expect(matchPattern(`[0-9${c === ']' || c === '\\' || c === '-' ? `\\${c}` : c}]`, c)).toBe(true);
    });
  }
});

describe('patternmatcher (.dockerignore)', () => {
  // moby's patternmatcher hands escapes and most punctuation to Go's regexp as they are (so
  // `\\d` is a digit and `a^*` never matches): kiln keeps those semantics. What must hold for
  // every character: no pattern made of it breaks the compiler, a literal name matches itself,
  // an escaped wildcard character matches literally.
  for (const c of inNames.filter((x) => x !== ' ')) {
    test(`${JSON.stringify(c)}: compiles, literal and escaped`, () => {
      for (const p of [`a${c}b`, `a${c}*`, `[\\${c}]`, `\\${c}`, `*${c}`, `**/${c}`]) {
        try {
          createPatternMatcher([p]).matchesOrParentMatches(`a${c}b`);
        } catch (err) {
          expect((err as Error).message).toMatch(/syntax error in pattern/);
        }
      }
      if (!'*?[]\\!'.includes(c)) {
        const m = createPatternMatcher([`a${c}b`]);
        expect(m.matchesOrParentMatches(`a${c}b`)).toBe(true);
        expect(m.matchesOrParentMatches(`a${c}b/inside`)).toBe(true);
      }
      if ('*?[]\\'.includes(c)) {
        expect(createPatternMatcher([`a\\${c}b`]).matchesOrParentMatches(`a${c}b`)).toBe(true);
        expect(createPatternMatcher([`a\\${c}*`]).matchesOrParentMatches(`a${c}zz`)).toBe(true);
      }
    });
  }
  test('a malformed pattern is a clear error, not a RegExp one', () => {
    expect(() => createPatternMatcher(['a[b']).matchesOrParentMatches('x')).toThrow(/syntax error in pattern/);
  });
});

describe('shell patterns (${VAR#pattern})', () => {
  for (const c of printable) {
    test(`${JSON.stringify(c)}: literal`, () => {
      const lit = '*?\\'.includes(c) ? `\\${c}` : c;
      expect(trimPrefix(lit, `${c}rest`, false)).toBe('rest');
      expect(trimPrefix(`${lit}*`, `${c}rest`, true)).toBe('');
    });
  }
});
