/**
 * The config file (kiln.toml), --max-parallelism, cache mounts in du/prune, and automatic GC
 * after builds: it removes what its policy says and never breaks a later cached build.
 */
import { describe, expect, test } from 'bun:test';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { useBuildEnv } from '../helpers/build-env.ts';
import { makeContext, runKiln } from '../helpers/kiln.ts';

const env = useBuildEnv();
const ran = (s: string) => Number(/(\d+) steps run/.exec(s)?.[1]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface VertexEvent {
  type: string;
  name?: string;
  status?: string;
  time: number;
}

describe('config file', () => {
  test('a bad key is a usage error naming the file, the key and the near one', async () => {
    const ctx = await makeContext({ Dockerfile: 'FROM scratch\n', 'kiln.toml': 'max-paralelism = 2\n' });
    try {
      const r = await runKiln(['build', '--config', join(ctx.dir, 'kiln.toml'), ctx.dir], { root: env.state.root });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`${join(ctx.dir, 'kiln.toml')}: `);
      expect(r.stderr).toContain('max-paralelism');
      expect(r.stderr).toContain('did you mean max-parallelism?');
      await writeFile(join(ctx.dir, 'bad.toml'), 'gc = [\n');
      const b = await runKiln(['du', '--config', join(ctx.dir, 'bad.toml')], { root: env.state.root });
      expect(b.code).toBe(2);
      expect(b.stderr).toContain('bad.toml');
    } finally {
      await ctx.cleanup();
    }
  });

  test('max-parallelism 1 (flag or config) runs independent RUN steps one at a time', async () => {
    const ctx = await makeContext({
      Dockerfile: `FROM ${env.reg.ref} AS a\nRUN sleep 0.5 && echo a > /a\nFROM ${env.reg.ref} AS b\nRUN sleep 0.5 && echo b > /b\nFROM scratch\nCOPY --from=a /a /a\nCOPY --from=b /b /b\n`,
      'kiln.toml': 'max-parallelism = 1\n',
    });
    try {
      const overlapping = async (args: string[]) => {
        const r = await runKiln(['build', '--progress=rawjson', '--no-cache', ...args, ctx.dir], { root: env.state.root });
        expect(r.code).toBe(0);
        const events = r.stderr
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as VertexEvent)
          .filter((e) => e.type === 'vertex' && e.name?.includes('RUN sleep'));
        const span = (stage: string) => {
          const ev = events.filter((e) => e.name!.includes(`echo ${stage}`));
          return [ev.find((e) => e.status === 'started')!.time, ev.find((e) => e.status === 'completed')!.time] as const;
        };
        const [a, b] = [span('a'), span('b')];
        return a[0] < b[1] && b[0] < a[1];
      };
      expect(await overlapping(['--max-parallelism', '1'])).toBe(false);
      expect(await overlapping(['--config', join(ctx.dir, 'kiln.toml')])).toBe(false);
      expect(await overlapping([])).toBe(true); // no limit by default, as BuildKit
    } finally {
      await ctx.cleanup();
    }
  });
});

describe('automatic GC', () => {
  test('removes what its policy says; a later build of what is kept is fully cached, the rest rebuilds', async () => {
    const ctx = await makeContext({
      'a/Dockerfile': `FROM ${env.reg.ref}\nRUN echo a > /a\n`,
      'b/Dockerfile': `FROM ${env.reg.ref}\nRUN --mount=type=cache,target=/cache echo b > /cache/b && echo b > /b\n`,
      'keep-1s.toml': '[[gc.policy]]\nkeep-duration = "1s"\n',
      'mounts-1s.toml': '[[gc.policy]]\nkeep-duration = "1s"\nfilters = ["type==exec.cachemount"]\n',
    });
    const build = (df: string, cfg?: string) =>
      runKiln(['build', '--progress=plain', ...(cfg ? ['--config', join(ctx.dir, cfg)] : []), '-f', join(ctx.dir, df, 'Dockerfile'), ctx.dir], { root: env.state.root });
    try {
      // Default policies (BuildKit's): nothing here is old or big enough to go.
      expect((await build('a')).code).toBe(0);
      expect((await build('b')).code).toBe(0);
      const du = await runKiln(['du'], { root: env.state.root });
      expect(du.stdout).toMatch(/cache mounts\s+1\s/);
      expect(ran((await build('a')).stderr)).toBe(0);
      expect(ran((await build('b')).stderr)).toBe(0);

      // Cache mounts unused for 1s go; build cache stays.
      await sleep(1100);
      const m = await build('a', 'mounts-1s.toml');
      expect(m.stderr).toMatch(/gc: removed 0 cache records, 1 cache mounts/);
      expect((await runKiln(['du'], { root: env.state.root })).stdout).toMatch(/cache mounts\s+0\s/);
      expect(ran((await build('b')).stderr)).toBe(0);

      // Everything unused for 1s goes: b's records (a was just used) and what only they reach.
      await sleep(1100);
      expect(ran((await build('a')).stderr)).toBe(0);
      const g = await build('a', 'keep-1s.toml');
      expect(g.code).toBe(0);
      expect(ran(g.stderr)).toBe(0);
      expect(g.stderr).toMatch(/gc: removed [1-9]\d* cache records/);
      expect(ran((await build('a')).stderr)).toBe(0);
      const b = await build('b');
      expect(b.code).toBe(0);
      expect(ran(b.stderr)).toBe(1);
      const doctor = await runKiln(['doctor', '--store'], { root: env.state.root });
      expect(doctor.stdout).toMatch(/ok\s+store integrity/);
    } finally {
      await ctx.cleanup();
    }
  });

  test('kiln prune --all removes cache mounts too', async () => {
    const ctx = await makeContext({ Dockerfile: `FROM ${env.reg.ref}\nRUN --mount=type=cache,target=/c echo x > /c/x\n` });
    try {
      expect((await runKiln(['build', '--progress=plain', ctx.dir], { root: env.state.root })).code).toBe(0);
      const p = await runKiln(['prune', '--all'], { root: env.state.root });
      expect(p.stdout).toMatch(/removed \d+ cache records, [1-9] cache mounts/);
      expect((await runKiln(['du'], { root: env.state.root })).stdout).toMatch(/cache mounts\s+0\s/);
    } finally {
      await ctx.cleanup();
    }
  });
});
