/**
 * kill -9 at random instants of builds (pull, context hashing, RUN, COPY, export, commit):
 * after each, `kiln doctor --store` finds nothing wrong; at the end a build succeeds, the
 * next one is fully cached, and no mount or container is left. The seed is printed, so a
 * failure can be replayed with KILN_KILL_SEED.
 */
import { describe, expect, test } from 'bun:test';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { useBuildEnv } from '../helpers/build-env.ts';
import { kilnBin, makeContext, mountsUnder, runKiln, runcContainers } from '../helpers/kiln.ts';

const env = useBuildEnv();

/** mulberry32: a small seeded PRNG, so a failing sequence of kill times can be replayed. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function buildThenKill(args: string[], root: string, afterMs: number): Promise<void> {
  const child = spawn(kilnBin, args, { env: { ...process.env, KILN_ROOT: root }, stdio: 'ignore' });
  const closed = new Promise((r) => child.on('close', r));
  await new Promise((r) => setTimeout(r, afterMs));
  child.kill('SIGKILL');
  await closed;
}

describe('crash safety', () => {
  test('kill -9 at random points: the store stays consistent and the next build works', async () => {
    const seed = Number(process.env.KILN_KILL_SEED ?? Date.now() % 1_000_000);
    console.log(`random kill seed: ${seed} (KILN_KILL_SEED=${seed} to replay)`);
    const rand = prng(seed);
    const files: Record<string, string> = {};
    for (let i = 0; i < 300; i++) files[`src/d${i % 10}/f${i}.txt`] = `file ${i}\n`.repeat(20);
    const ctx = await makeContext({
      ...files,
      Dockerfile: [
        `FROM ${env.reg.ref} AS a`,
        'ARG N=0',
        'RUN echo "a $N" > /a && dd if=/dev/urandom of=/blob bs=64k count=16 2>/dev/null',
        `FROM ${env.reg.ref} AS b`,
        'COPY src /src',
        'RUN ls -R /src | wc -l > /count',
        'FROM b',
        'ARG N=0',
        'COPY --from=a /a /blob /from-a/',
        'RUN echo "$N" > /n && sleep 0.2',
        '',
      ].join('\n'),
    });
    const out = join(ctx.dir, 'out.tar');
    const args = (n: number, noCache: boolean) => ['build', '--progress=plain', '--build-arg', `N=${n}`, ...(noCache ? ['--no-cache'] : []), '-o', `type=oci,dest=${out}`, ctx.dir];
    try {
      for (let i = 0; i < 8; i++) {
        const at = Math.floor(rand() * 1500);
        await buildThenKill(args(Math.floor(rand() * 3), rand() < 0.3), env.state.root, at);
        const doctor = await runKiln(['doctor', '--store'], { root: env.state.root });
        if (!doctor.stdout.includes('store integrity: ') || doctor.stdout.includes('FAIL  store') || /FAIL\s+store/.test(doctor.stdout)) {
          throw new Error(`after a kill at ${at} ms (iteration ${i}, seed ${seed}):\n${doctor.stdout}`);
        }
        expect(doctor.stdout).toMatch(/ok\s+store integrity/);
      }
      const r = await runKiln(args(7, false), { root: env.state.root });
      expect(r.code).toBe(0);
      const again = await runKiln(args(7, false), { root: env.state.root });
      expect(again.code).toBe(0);
      expect(again.stderr).toMatch(/0 steps run/);
      const doctor = await runKiln(['doctor', '--store'], { root: env.state.root });
      expect(doctor.stdout).toMatch(/ok\s+store integrity/);
      expect(mountsUnder(env.state.root)).toEqual([]);
      expect(runcContainers(env.state.root)).toEqual([]);
    } finally {
      await ctx.cleanup();
    }
  }, 180_000);
});
