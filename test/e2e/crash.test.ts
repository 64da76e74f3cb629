/** kill -9 in the middle of a RUN: the next build cleans up after it and works. */
import { describe, expect, test } from 'bun:test';
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { useBuildEnv } from '../helpers/build-env.ts';
import { kilnBin, makeContext, mountsUnder, runKiln, runcContainers } from '../helpers/kiln.ts';

const env = useBuildEnv();

describe('crash safety', () => {
  test('SIGKILL during RUN, then a build of the same Dockerfile succeeds and nothing is left over', async () => {
    const ctx = await makeContext({ Dockerfile: `FROM ${env.reg.ref}\nRUN echo first > /a\nRUN echo started && sleep 3 && echo done > /b\n` });
    try {
      const child = spawn(kilnBin, ['build', '--progress=plain', ctx.dir], { env: { ...process.env, KILN_ROOT: env.state.root }, stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr.on('data', (c) => (err += c));
      // The step's own output (not its header, printed before the mount): the container runs.
      const running = /^#\d+ [\d.]+ started$/m;
      for (let i = 0; i < 100 && !running.test(err); i++) await new Promise((r) => setTimeout(r, 50));
      expect(err).toMatch(running);
      child.kill('SIGKILL');
      await new Promise((r) => child.on('close', r));
      expect(mountsUnder(env.state.root).length).toBeGreaterThan(0); // the killed build left its overlay mounted

      const r = await runKiln(['build', '--progress=plain', ctx.dir], { root: env.state.root });
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/RUN echo first > \/a\n#\d+ CACHED/);
      expect(mountsUnder(env.state.root)).toEqual([]);
      expect(runcContainers(env.state.root)).toEqual([]);
      expect((await readdir(join(env.state.root, 'snapshots'))).filter((n) => n.startsWith('tmp-'))).toEqual([]);
      expect((await readdir(join(env.state.root, 'run'))).filter((n) => n !== 'executor')).toEqual([]);
    } finally {
      await ctx.cleanup();
    }
  });
});
