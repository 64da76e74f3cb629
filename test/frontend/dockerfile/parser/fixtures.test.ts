import { describe, expect, test } from 'bun:test';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, toDebugJson } from '../../../../src/frontend/dockerfile/parser/index.ts';
import { KilnError } from '../../../../src/util/errors.ts';

const fixtures = resolve(dirname(fileURLToPath(import.meta.url)), '../../../fixtures/dockerfile');
const read = (p: string) => new TextDecoder().decode(readFileSync(p));
const cases = (kind: string) => readdirSync(join(fixtures, kind)).sort();

describe('parser fixtures (test/fixtures/dockerfile/parse)', () => {
  const names = cases('parse');
  test('has fixtures', () => expect(names.length).toBeGreaterThan(10));
  for (const name of names) {
    test(name, () => {
      const dir = join(fixtures, 'parse', name);
      const got = toDebugJson(parse(read(join(dir, 'Dockerfile'))));
      expect(got).toEqual(JSON.parse(read(join(dir, 'expected.json'))));
    });
  }
});

describe('parser negative fixtures (test/fixtures/dockerfile/parse-negative)', () => {
  const names = cases('parse-negative');
  test('has fixtures', () => expect(names.length).toBeGreaterThan(5));
  for (const name of names) {
    test(name, () => {
      const dir = join(fixtures, 'parse-negative', name);
      let caught: unknown;
      try {
        parse(read(join(dir, 'Dockerfile')));
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(KilnError);
      expect((caught as KilnError).kind).toBe('input');
      expect((caught as KilnError).message).toBe(read(join(dir, 'error.txt')).trimEnd());
    });
  }
});
