import { describe, expect, test } from 'bun:test';
import { createLexer } from '../../../../src/frontend/dockerfile/shell/index.ts';
import { envOf, readVectorJson } from './vectors.ts';

interface EnvVarCase { line: number; platform: string; input: string; env: string[]; expected: string | null; error: boolean }
interface WordsCase { line: number; input: string; env: string[]; expected: string[] | null; error: boolean }
interface ProcessCase {
  source: string; input: string; env: string[]; error: boolean;
  expected?: string; errorContains?: string; matched?: string[]; unmatched?: string[];
}

const lex = createLexer('\\');

describe('shell lexer: BuildKit envVarTest (ProcessWord)', () => {
  const cases = readVectorJson<EnvVarCase[]>('shell', 'envVarTest.json').filter((c) => c.platform !== 'W');
  test('has vectors', () => expect(cases.length).toBeGreaterThan(100));
  for (const c of cases) {
    test(`line ${c.line}: ${c.input}`, () => {
      const env = envOf(c.env);
      if (c.error) expect(() => lex.processWord(c.input, env)).toThrow();
      else expect(lex.processWord(c.input, env)).toBe(c.expected!);
    });
  }
});

describe('shell lexer: BuildKit wordsTest (ProcessWords)', () => {
  const cases = readVectorJson<WordsCase[]>('shell', 'wordsTest.json');
  for (const c of cases) {
    test(`line ${c.line}: ${c.input}`, () => {
      const env = envOf(c.env);
      if (c.error) expect(() => lex.processWords(c.input, env)).toThrow();
      else expect(lex.processWords(c.input, env)).toEqual(c.expected!);
    });
  }
});

describe('shell lexer: BuildKit process-word (ProcessWordWithMatches)', () => {
  const cases = readVectorJson<ProcessCase[]>('shell', 'process-word.json');
  for (const [i, c] of cases.entries()) {
    test(`#${i} ${c.input} [${c.env.join(' ')}]`, () => {
      const env = envOf(c.env);
      if (c.error) {
        expect(() => lex.processWordWithMatches(c.input, env)).toThrow(c.errorContains ?? '');
        return;
      }
      const r = lex.processWordWithMatches(c.input, env);
      expect(r.result).toBe(c.expected!);
      if (c.matched) expect([...r.matched].sort()).toEqual([...c.matched].sort());
      if (c.unmatched) expect([...r.unmatched].sort()).toEqual([...c.unmatched].sort());
    });
  }
});
