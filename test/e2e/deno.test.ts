/** Portable source: the same src/ runs under Deno (`deno run -A`), which npm installs. */
import { describe, expect, test } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { makeContext, repoRoot, tempStateDir } from '../helpers/kiln.ts';

const deno = join(repoRoot, 'node_modules', '.bin', 'deno');

describe('kiln under Deno', () => {
  test('deno is installed by npm', () => expect(existsSync(deno)).toBe(true));

  test('version, debug expand and a FROM scratch build with COPY', async () => {
    const run = (args: string[], env: Record<string, string> = {}) =>
      spawnSync(deno, ['run', '-A', join(repoRoot, 'src', 'cli', 'main.ts'), ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', ...env } });
    expect(run(['version']).stdout).toMatch(/^kiln /);
    expect(run(['debug', 'expand', '--env', 'A=1', '--', '${A:-x}']).stdout).toBe('1\n');
    const ctx = await makeContext({ Dockerfile: 'FROM scratch\nCOPY a /a\nLABEL x=y\n', a: 'a\n' });
    const state = await tempStateDir();
    try {
      const r = run(['build', '--progress=plain', '-o', `type=tar,dest=${join(state.root, 'out.tar')}`, ctx.dir], { KILN_ROOT: state.root });
      if (r.status !== 0) console.error(r.stderr);
      expect(r.status).toBe(0);
      expect(spawnSync('tar', ['-tf', join(state.root, 'out.tar')], { encoding: 'utf8' }).stdout).toContain('a');
    } finally {
      await ctx.cleanup();
      await state.cleanup();
    }
  });
});
