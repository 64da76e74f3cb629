/**
 * RUN steps run under BuildKit's default seccomp profile: keyctl, add_key, unshare(CLONE_NEWUSER)
 * and unusual personalities are refused with EPERM, ordinary calls work; --allow
 * security.insecure with RUN --security=insecure lifts the profile. A static C probe (compiled
 * here with gcc) makes the calls inside the step.
 */
import { beforeAll, describe, expect, test } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeContext, runKiln, repoRoot } from '../helpers/kiln.ts';
import { useBuildEnv } from '../helpers/build-env.ts';
import { useHostGuard } from './helpers/host-guard.ts';

const env = useBuildEnv();
let probe: string;
beforeAll(() => {
  probe = join(env.out, 'probe');
  const r = spawnSync('gcc', ['-static', '-O1', '-o', probe, join(repoRoot, 'test/security/fixtures/syscall-probe.c')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`gcc: ${r.stderr || r.error?.message} (apt-get install gcc libc6-dev)`);
});

async function probeIn(dockerfileRun: string, args: string[] = []): Promise<Record<string, string>> {
  const ctx = await makeContext({ Dockerfile: `FROM ${env.reg.ref}\nCOPY probe /probe\n${dockerfileRun}\n` });
  try {
    const { copyFile } = await import('node:fs/promises');
    await copyFile(probe, join(ctx.dir, 'probe'));
    const dest = join(env.out, `probe-${Math.random().toString(16).slice(2)}`);
    const r = await runKiln(['build', '--progress=plain', '-o', `type=local,dest=${dest}`, ...args, ctx.dir], { root: env.state.root });
    if (r.code !== 0) console.error(r.stderr);
    expect(r.code).toBe(0);
    const text = await readFile(join(dest, 'out'), 'utf8');
    return Object.fromEntries(text.trim().split('\n').map((l) => l.split(' ', 2) as [string, string]));
  } finally {
    await ctx.cleanup();
  }
}

/** The host is checked after every test (useHostGuard). */
useHostGuard();

describe('seccomp', () => {
  test('the default profile refuses what BuildKit refuses', async () => {
    const got = await probeIn('RUN /probe > /out');
    expect(got).toMatchObject({ add_key: 'EPERM', keyctl: 'EPERM', personality: 'EPERM', 'unshare-user': 'EPERM', getpid: 'allowed' });
  });

  test('RUN --security=insecure (with --allow security.insecure) runs unconfined', async () => {
    const got = await probeIn('RUN --security=insecure /probe > /out', ['--allow', 'security.insecure']);
    expect(got['unshare-user']).toBe('allowed');
    expect(got.personality).toBe('allowed');
    expect(got.getpid).toBe('allowed');
  });

  test('kiln doctor says whether seccomp is enforced', async () => {
    const r = await runKiln(['doctor'], { root: env.state.root });
    expect(r.stdout).toMatch(/ok +seccomp: RUN steps are filtered by BuildKit's default profile/);
  });
});
