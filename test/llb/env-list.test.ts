/** EnvList: an immutable ordered env map whose lists stay right however they are shared. */
import { describe, expect, test } from 'bun:test';
import { EnvList } from '../../src/llb/env-list.ts';

describe('EnvList', () => {
  test('order of first definition, later values win', () => {
    const l = EnvList.of([['A', '1'], ['B', '2'], ['A', '3']]);
    expect(l.entries()).toEqual([['A', '3'], ['B', '2']]);
    expect(l.get('A')).toBe('3');
    expect(l.size).toBe(2);
  });

  test('every list keeps its own values when a line branches and old lists are read again', () => {
    const base = EnvList.of([['A', '1']]);
    const x = base.set('B', 'x');
    const y = base.set('B', 'y').set('A', '2');
    const views = [base.view(), x.view(), y.view()];
    // read in an order that makes lists take and rebuild maps
    expect(y.get('A')).toBe('2');
    expect(x.get('B')).toBe('x');
    expect(base.get('B')).toBeUndefined();
    expect(y.get('B')).toBe('y');
    expect([...views[0]!.keys()]).toEqual(['A']);
    expect(Object.fromEntries(views[1]!)).toEqual({ A: '1', B: 'x' });
    expect(Object.fromEntries(views[2]!)).toEqual({ A: '2', B: 'y' });
    expect(EnvList.EMPTY.size).toBe(0);
  });

  test('10,000 sets in a line, each read as it is made, stay linear', () => {
    let l = EnvList.EMPTY;
    let seen = 0;
    for (let i = 0; i < 10_000; i++) {
      l = l.set(`K${i}`, `v${i}`);
      if (l.get(`K${i}`) === `v${i}`) seen++;
      l.view().get('K0');
    }
    expect(seen).toBe(10_000);
    expect(l.size).toBe(10_000);
  });

  test('a random program of sets and reads agrees with a plain Map copy', () => {
    let seed = 42;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
    const lists: { l: EnvList; m: Map<string, string> }[] = [{ l: EnvList.EMPTY, m: new Map() }];
    for (let i = 0; i < 3000; i++) {
      const from = lists[rnd(lists.length)]!;
      if (rnd(3) === 0) {
        const k = `k${rnd(20)}`;
        expect(from.l.get(k)).toBe(from.m.get(k));
        continue;
      }
      const k = `k${rnd(20)}`;
      const v = `v${i}`;
      const m = new Map(from.m);
      m.set(k, v);
      lists.push({ l: from.l.set(k, v), m });
    }
    for (const { l, m } of lists) expect(Object.fromEntries(l.view())).toEqual(Object.fromEntries(m));
  });
});
