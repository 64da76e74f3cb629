/** `kiln debug parse|expand|words|llb` through dist/kiln. */
import { describe, expect, test } from 'bun:test';
import { makeContext, runKiln } from '../helpers/kiln.ts';

describe('kiln debug', () => {
  test('parse prints one object per instruction, args unexpanded', async () => {
    const df = 'FROM scratch\nRUN --mount=type=cache,target=/x echo $HOME \\\n  more\nENV A=1 B=2\nCMD ["a", "b"]\n';
    const r = await runKiln(['debug', 'parse', '-f', '-'], { input: df });
    expect(r.code).toBe(0);
    const tree = JSON.parse(r.stdout);
    expect(tree.map((n: { name: string }) => n.name)).toEqual(['from', 'run', 'env', 'cmd']);
    expect(tree[1]).toEqual({ name: 'run', flags: ['--mount=type=cache,target=/x'], args: ['echo $HOME   more'], json: false, heredocs: [], startLine: 2, endLine: 3 });
    expect(tree[2].args).toEqual(['A', '1', '=', 'B', '2', '=']);
    expect(tree[3]).toMatchObject({ args: ['a', 'b'], json: true });
  });

  test('expand and words', async () => {
    const e = await runKiln(['debug', 'expand', '--env', 'A=x', '--', '${A:-no}-${B:-dflt}-${A/x/y}']);
    expect(e.stdout).toBe('x-dflt-y\n');
    const fail = await runKiln(['debug', 'expand', '--', '${NEED:?must be set}']);
    expect(fail.code).toBe(1);
    expect(fail.stderr).toContain('must be set');
    const w = await runKiln(['debug', 'words', '--env', 'V=a b', '--', '$V "$V" c']);
    expect(JSON.parse(w.stdout)).toEqual(['a', 'b', 'a b', 'c']);
  });

  test('llb prints the definition with ops by digest', async () => {
    const ctx = await makeContext({ Dockerfile: 'FROM scratch\nCOPY a /a\n', a: 'x' });
    try {
      const r = await runKiln(['debug', 'llb', ctx.dir]);
      expect(r.code).toBe(0);
      const out = JSON.parse(r.stdout);
      expect(out.definition.ops.map((o: { op: { op: { type: string } } }) => o.op.op.type)).toEqual(['source', 'file']);
      expect(out.definition.output.digest).toBe(out.definition.ops[1].digest);
    } finally {
      await ctx.cleanup();
    }
  });
});
