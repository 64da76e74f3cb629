/** .dockerignore semantics checked against moby/patternmatcher's own test data (../shared/conformance-vectors). */
import { describe, expect, test } from 'bun:test';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPatternMatcher, readIgnoreFile } from '../../src/util/patternmatcher.ts';

const dir = join(import.meta.dirname, '..', '..', '..', 'shared', 'conformance-vectors', 'dockerignore');
if (!existsSync(dir)) throw new Error(`conformance vectors not found at ${dir}`);
const matches: { patterns: string[]; path: string; expected: boolean | 'error' }[] = JSON.parse(readFileSync(join(dir, 'matches.json'), 'utf8'));
const readall: { content: string; expected: string[] }[] = JSON.parse(readFileSync(join(dir, 'readall.json'), 'utf8'));

describe('dockerignore matching (patternmatcher vectors)', () => {
  matches.forEach((v, i) => {
    test(`#${i} ${JSON.stringify(v.patterns)} ${v.path}`, () => {
      if (v.expected === 'error') {
        expect(() => createPatternMatcher(v.patterns).matchesOrParentMatches(v.path)).toThrow();
        return;
      }
      expect(createPatternMatcher(v.patterns).matchesOrParentMatches(v.path)).toBe(v.expected);
    });
  });
});

describe('dockerignore reading (ignorefile vectors)', () => {
  readall.forEach((v, i) => test(`#${i}`, () => expect(readIgnoreFile(v.content)).toEqual(v.expected)));
});
