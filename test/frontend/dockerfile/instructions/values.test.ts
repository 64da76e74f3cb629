import { describe, expect, test } from 'bun:test';
import { parseGoDuration, ramInBytes, csvFields, parseGoBool, parseGoUint, parseGoInt } from '../../../../src/frontend/dockerfile/instructions/go-values.ts';
import { createBFlags } from '../../../../src/frontend/dockerfile/instructions/bflags.ts';
import { levenshtein, suggest } from '../../../../src/frontend/dockerfile/instructions/suggest.ts';

describe('Go durations', () => {
  const ok: [string, number][] = [
    ['0', 0], ['5s', 5e9], ['1m30s', 90e9], ['1h', 3600e9], ['1.5s', 1.5e9], ['.5ms', 5e5], ['1.s', 1e9],
    ['300ms', 3e8], ['10us', 1e4], ['10µs', 1e4], ['10μs', 1e4], ['7ns', 7], ['-2s', -2e9], ['+3m', 180e9],
    ['1h2m3s4ms', 3723004e6], ['0.0000000015s', 1],
  ];
  for (const [s, ns] of ok) test(s, () => expect(parseGoDuration(s)).toBe(ns));
  const bad: [string, string][] = [
    ['', 'time: invalid duration ""'], ['s', 'time: invalid duration "s"'], ['.s', 'time: invalid duration ".s"'],
    ['5', 'time: missing unit in duration "5"'], ['1d', 'time: unknown unit "d" in duration "1d"'],
    ['1s5', 'time: missing unit in duration "1s5"'], ['-', 'time: invalid duration "-"'],
    ['9999999999h', 'time: invalid duration "9999999999h"'],
  ];
  for (const [s, m] of bad) test(`bad ${JSON.stringify(s)}`, () => expect(() => parseGoDuration(s)).toThrow(m));
});

describe('docker units RAMInBytes', () => {
  const ok: [string, number][] = [
    ['32', 32], ['32b', 32], ['32B', 32], ['32k', 32768], ['32K', 32768], ['32kb', 32768], ['32Kib', 32768],
    ['32m', 32 * 1024 ** 2], ['32 MB', 32 * 1024 ** 2], ['1.5g', 1.5 * 1024 ** 3], ['1t', 1024 ** 4], ['2p', 2 * 1024 ** 5],
    ['0.3', 0],
  ];
  for (const [s, n] of ok) test(s, () => expect(ramInBytes(s)).toBe(n));
  for (const s of ['', 'abc', '32x', '32kk', '32mbb', '-1', '1.2.3k', 'k']) test(`bad ${JSON.stringify(s)}`, () => expect(() => ramInBytes(s)).toThrow());
});

describe('csv record', () => {
  test('fields', () => {
    expect(csvFields('a,b,,c')).toEqual(['a', 'b', '', 'c']);
    expect(csvFields('"a,b",c')).toEqual(['a,b', 'c']);
    expect(csvFields('"say ""hi""",x,')).toEqual(['say "hi"', 'x', '']);
    expect(csvFields('a\n')).toEqual(['a']);
    expect(csvFields(' a , b')).toEqual([' a ', ' b']);
  });
  test('byte columns in errors', () => expect(() => csvFields('é"')).toThrow('parse error on line 1, column 3: bare " in non-quoted-field'));
});

describe('Go strconv', () => {
  test('ParseBool', () => {
    expect(['1', 't', 'T', 'TRUE', 'true', 'True'].map(parseGoBool)).toEqual(Array(6).fill(true));
    expect(['0', 'f', 'F', 'FALSE', 'false', 'False'].map(parseGoBool)).toEqual(Array(6).fill(false));
    expect(['yes', 'tRUE', '', ' true'].map(parseGoBool)).toEqual(Array(4).fill(undefined));
  });
  test('ParseUint', () => {
    expect(parseGoUint('0755', 8, 32)).toBe(0o755);
    expect(parseGoUint('8', 8, 32)).toBeUndefined();
    expect(parseGoUint('4294967295', 10, 32)).toBe(4294967295);
    expect(parseGoUint('4294967296', 10, 32)).toBeUndefined();
    expect(parseGoUint('+1', 10, 32)).toBeUndefined();
    expect(parseGoUint('', 10, 32)).toBeUndefined();
  });
  test('ParseInt', () => {
    expect(parseGoInt('-5', 32)).toBe(-5);
    expect(parseGoInt('+5', 32)).toBe(5);
    expect(() => parseGoInt('2147483648', 32)).toThrow('strconv.ParseInt: parsing "2147483648": value out of range');
    expect(() => parseGoInt('1.0', 32)).toThrow('strconv.ParseInt: parsing "1.0": invalid syntax');
  });
});

describe('BFlags', () => {
  function flags(args: string[]) {
    const f = createBFlags(args);
    f.addString('str', 'HI');
    f.addBool('bool');
    f.addBool('on', true);
    f.addStrings('many');
    return f;
  }
  test('defaults when nothing is given', () => {
    const f = flags([]);
    f.parse();
    expect([f.value('str'), f.bool('bool'), f.bool('on'), f.values('many'), f.used()]).toEqual(['HI', false, true, [], []]);
  });
  test('values', () => {
    const f = flags(['--str=', '--bool=TRUE', '--on=false', '--many=a', '--many=b=c']);
    f.parse();
    expect([f.value('str'), f.bool('bool'), f.bool('on'), f.values('many')]).toEqual(['', true, false, ['a', 'b=c']]);
    expect(f.used()).toEqual(['bool', 'many', 'on', 'str']);
    expect(f.isUsed('str')).toBe(true);
  });
  test('-- stops flag processing', () => {
    const f = flags(['--bool', '--', '--nope', 'x']);
    f.parse();
    expect(f.bool('bool')).toBe(true);
  });
  const bad: [string[], string][] = [
    [['--str'], 'missing a value on flag: --str'],
    [['--bool='], 'missing a value on flag: --bool'],
    [['--bool=false1'], 'expecting boolean value for flag --bool, not: false1'],
    [['--bool2'], 'unknown flag: --bool2 (did you mean bool?)'],
    [['--xyzzy'], 'unknown flag: --xyzzy'],
    [['-str=x'], 'arg should start with -- : -str=x'],
    [['str'], 'arg should start with -- : str'],
    [['--str=a', '--str=b'], 'duplicate flag specified: --str'],
    [['--bool', '--bool'], 'duplicate flag specified: --bool'],
  ];
  for (const [args, m] of bad) test(args.join(' '), () => expect(() => flags(args).parse()).toThrow(m));
  test('declaring a flag twice fails at parse', () => {
    const f = createBFlags([]);
    f.addBool('x');
    f.addString('x');
    expect(() => f.parse()).toThrow('error setting up flags: Duplicate flag defined: x');
  });
});

describe('suggestions', () => {
  test('levenshtein', () => {
    expect(levenshtein('kitten', 'sitting')).toBe(3);
    expect(levenshtein('', 'abc')).toBe(3);
    expect(levenshtein('flaw', 'lawn')).toBe(2);
  });
  test('distance below 3, exact match means no suggestion, case kept', () => {
    expect(suggest('form', ['FROM', 'RUN'], false)).toBe('from');
    expect(suggest('Form', ['FROM', 'RUN'], false)).toBe('from'); // mixed case: the lower-cased option, as BuildKit
    expect(suggest('from', ['FROM'], false)).toBeUndefined();
    expect(suggest('xyz', ['FROM'], false)).toBeUndefined();
    expect(suggest('Link', ['link'], true)).toBe('link');
  });
});
