import { describe, expect, test } from 'bun:test';
import { createLexer } from '../../../../src/frontend/dockerfile/shell/index.ts';

const env = (o: Record<string, string> = {}) => new Map(Object.entries(o));

describe('lexer options (BuildKit Lex fields)', () => {
  test('backtick escape token', () => {
    const lex = createLexer('`');
    expect(lex.processWord('a`$b c\\d', env({ b: 'x' }))).toBe('a$b c\\d');
  });

  test('skipUnsetEnv leaves references to unset variables as written', () => {
    const lex = createLexer('\\', { skipUnsetEnv: true });
    expect(lex.processWord('$a ${b} ${c:-x} ${d/x/y} $e', env({ e: 'E' }))).toBe('$a ${b} ${c:-x} ${d/x/y} E');
  });

  test('rawQuotes keeps quotes, rawEscapes keeps escapes', () => {
    expect(createLexer('\\', { rawQuotes: true }).processWord(`'a' "b"`, env())).toBe(`'a' "b"`);
    expect(createLexer('\\', { rawEscapes: true }).processWord('a\\ b', env())).toBe('a\\ b');
  });

  test('skipProcessQuotes treats quotes as text but still expands', () => {
    const lex = createLexer('\\', { skipProcessQuotes: true });
    expect(lex.processWord(`'$x' "$x"`, env({ x: '1' }))).toBe(`'1' "1"`);
  });
});

describe('lexer behaviour', () => {
  test('<< and the blanks after it stay in one word (heredoc detection)', () => {
    expect(createLexer().processWords('cat << EOF >out', env())).toEqual(['cat', '<< EOF', '>out']);
  });

  test('a set-but-empty variable is matched, an unset one is not', () => {
    const r = createLexer().processWordWithMatches('${A:-x}${B-y}', env({ A: '' }));
    expect(r.result).toBe('xy');
    expect([...r.matched]).toEqual(['A']);
    expect([...r.unmatched]).toEqual(['B']);
  });

  test('${V//p/r} follows Go: no empty match right after a match', () => {
    expect(createLexer().processWord('${x//*/y}', env({ x: 'abc' }))).toBe('y');
    expect(createLexer().processWord('${x//b?/-}', env({ x: 'abcabd' }))).toBe('a-a-');
  });

  test('${V//p/r} expands Go templates in the replacement ($0 is the match)', () => {
    expect(createLexer().processWord('${x//b/\\$0}', env({ x: 'abc' }))).toBe('a\\bc');
  });

  test('a nested ${V:-w} resets the pending word of processWords, as in BuildKit', () => {
    expect(createLexer().processWords('a${x:-b}c', env())).toEqual(['bc']);
    expect(createLexer().processWords('a ${x:-b}c', env())).toEqual(['a', 'bc']);
  });

  test('errors are wrapped with the word, worded as BuildKit', () => {
    const lex = createLexer();
    expect(() => lex.processWord('${x:?boom}', env())).toThrow('failed to process "${x:?boom}": x: boom');
    expect(() => lex.processWord('${x:}', env())).toThrow("syntax error: missing '}'");
    expect(() => lex.processWord('${x#\\a}', env({ x: 'a' }))).toThrow("invalid pattern (\\a) in substitution: invalid escape '\\a'");
    expect(() => lex.processWord('"abc', env())).toThrow('unexpected end of statement while looking for matching double-quote');
  });
});
