import { describe, expect, test } from 'bun:test';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  detectSyntax,
  heredocsFromLine,
  parse,
  parseHeredoc,
  parseWords,
} from '../../../../src/frontend/dockerfile/parser/index.ts';
import { KilnError } from '../../../../src/util/errors.ts';
import { readVectorJson, vectorPath } from '../shell/vectors.ts';
import { dump, resultToAstJson } from './ast-format.ts';

const decoder = new TextDecoder();
const readText = (p: string) => decoder.decode(readFileSync(p));
const caseDirs = (...parts: string[]) => {
  const dir = vectorPath(...parts);
  return readdirSync(dir).sort().map((name) => ({ name, dir: join(dir, name) }));
};

for (const group of ['testfiles', 'extra']) {
  describe(`parser: BuildKit ${group} (result dump and ast.json)`, () => {
    const cases = caseDirs('parser', group);
    test('has vectors', () => expect(cases.length).toBeGreaterThan(group === 'extra' ? 4 : 30));
    for (const c of cases) {
      test(c.name, () => {
        const result = parse(readText(join(c.dir, 'Dockerfile')));
        expect(dump(result.ast) + '\n').toBe(readText(join(c.dir, 'result')));
        expect(resultToAstJson(result)).toEqual(JSON.parse(readText(join(c.dir, 'ast.json'))));
      });
    }
  });
}

describe('parser: BuildKit negative cases', () => {
  for (const c of caseDirs('parser', 'testfiles-negative')) {
    test(c.name, () => {
      const text = readText(join(c.dir, 'Dockerfile'));
      expect(() => parse(text)).toThrow(KilnError);
    });
  }
  for (const c of caseDirs('parser', 'extra-negative')) {
    test(`extra-negative/${c.name}`, () => {
      const text = readText(join(c.dir, 'Dockerfile'));
      const message = readText(join(c.dir, 'error')).trim();
      expect(() => parse(text)).toThrow(message);
    });
  }
});

describe('parser: detect-syntax', () => {
  const cases = readVectorJson<{ input: string; expected: unknown }[]>('parser', 'detect-syntax.json');
  for (const [i, c] of cases.entries()) {
    test(`#${i} ${JSON.stringify(c.input).slice(0, 60)}`, () => {
      expect(detectSyntax(c.input)).toEqual(c.expected as never);
    });
  }
});

describe('parser: helper tables', () => {
  const words = readVectorJson<{ input: string; expected: string[] }[]>('parser', 'parse-words.json');
  for (const c of words) {
    test(`parseWords ${c.input}`, () => expect(parseWords(c.input, '\\')).toEqual(c.expected));
  }
  const helpers = readVectorJson<{
    heredocsFromLine: { line: string; names: string[] | null }[];
    parseHeredoc: { valid: string[]; invalid: string[]; notHeredoc: string[] };
  }>('parser', 'heredoc-helpers.json');
  for (const c of helpers.heredocsFromLine) {
    // As upstream TestHeredocsFromLine: every heredoc found must carry the expected name at
    // its index (BuildKit itself finds none in `RUN <<- EOF`: its lexer splits `<<-` from `EOF`).
    test(`heredocsFromLine ${c.line}`, () => {
      const got = heredocsFromLine(c.line).map((h) => h.name);
      expect(got).toEqual((c.names ?? []).slice(0, got.length));
    });
  }
  for (const w of helpers.parseHeredoc.valid) test(`parseHeredoc valid ${w}`, () => expect(parseHeredoc(w)).not.toBeNull());
  for (const w of helpers.parseHeredoc.invalid) test(`parseHeredoc invalid ${w}`, () => expect(() => parseHeredoc(w)).toThrow());
  for (const w of helpers.parseHeredoc.notHeredoc) test(`parseHeredoc not ${w}`, () => expect(parseHeredoc(w)).toBeNull());
});
