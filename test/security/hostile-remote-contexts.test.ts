/**
 * Build contexts and ADD sources fetched from servers nobody here runs. A repository whose
 * `#ref:subdir` is a symlink to a host directory (absolute, or climbing with ..) is resolved
 * inside the checkout, never on the host. A context server that stalls, or a git server that
 * never speaks, ends the build by itself within the [network] limits, and SIGTERM ends it
 * within 2 s; no kiln-context temp dir is left either way.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test';
import { mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { makeContext, runKiln, tempStateDir } from '../helpers/kiln.ts';
import { git, startGitDaemon, type GitDaemon } from '../helpers/git-daemon.ts';
import { makeTempDir, removeAll } from '../../src/util/fs.ts';
import { expectCleanFailure } from './helpers/clean-failure.ts';
import { useHostGuard } from './helpers/host-guard.ts';
import { runUntilSignalled } from './helpers/signalled-run.ts';
import { startStallingServers, type StallingServers } from './helpers/stalling-servers.ts';

const host = useHostGuard();
let state: Awaited<ReturnType<typeof tempStateDir>>;
let work: string;
let daemon: GitDaemon | undefined;
let stalling: StallingServers;
/** Short limits: a stall costs about IDLE_S per attempt. */
let fastConfig: string;
let slowConfig: string;
const BOUND_S = 15;

beforeAll(async () => {
  state = await tempStateDir();
  work = await makeTempDir('kiln-hostile-remote-');
  fastConfig = join(work, 'fast.toml');
  slowConfig = join(work, 'slow.toml');
  await writeFile(fastConfig, '[network]\nidle-timeout = "1s"\nattempts = 2\n');
  await writeFile(slowConfig, '[network]\nidle-timeout = "60s"\n');
  // evil.git: links aimed at the host's canary directory, and one honest link inside.
  const repo = join(work, 'evil.git');
  git(['init', '-q', '-b', 'main', repo], work);
  await mkdir(join(repo, 'real'));
  await writeFile(join(repo, 'real', 'Dockerfile'), 'FROM scratch\nCOPY inside.txt /\n');
  await writeFile(join(repo, 'real', 'inside.txt'), 'inside the repository\n');
  await symlink(host.guard.dir, join(repo, 'abs'));
  await symlink(join(...Array(12).fill('..'), relative('/', host.guard.dir)), join(repo, 'climb'));
  await symlink('real', join(repo, 'honest'));
  git(['add', '.'], repo);
  git(['commit', '-q', '-m', 'links'], repo);
  daemon = await startGitDaemon(work);
  stalling = await startStallingServers();
});
afterAll(async () => {
  await stalling?.close();
  await daemon?.stop();
  if (work) await removeAll(work);
  await state?.cleanup();
});

const contextTemps = async () => (await readdir(tmpdir())).filter((n) => n.startsWith('kiln-context-'));
afterEach(async () => {
  expect(await contextTemps()).toEqual([]);
});

describe('a repository whose subdir is a symlink', () => {
  for (const link of ['abs', 'climb']) {
    test(`a git context #main:${link} (aimed at the host) is refused`, async () => {
      const r = await runKiln(['build', '--progress=plain', `${daemon!.url('evil.git')}#main:${link}`], { root: state.root });
      expectCleanFailure(r, new RegExp(`${link} is not a directory in the repository`));
      expect(r.stderr).not.toContain(host.guard.secretText);
    });

    test(`ADD of git #main:${link} (aimed at the host) is refused`, async () => {
      const ctx = await makeContext({ Dockerfile: `FROM scratch\nADD ${daemon!.url('evil.git')}#main:${link} /src\n` });
      try {
        const r = await runKiln(['build', '--progress=plain', ctx.dir], { root: state.root });
        expectCleanFailure(r, new RegExp(`${link} is not a directory in the repository`));
        expect(r.stderr).not.toContain(host.guard.secretText);
      } finally {
        await ctx.cleanup();
      }
    });
  }

  test('a link inside the repository is followed inside it', async () => {
    const out = join(work, 'out-honest');
    const r = await runKiln(['build', '--progress=plain', '-o', `type=local,dest=${out}`, `${daemon!.url('evil.git')}#main:honest`], { root: state.root });
    if (r.code !== 0) console.error(r.stderr);
    expect(r.code).toBe(0);
    expect(await readFile(join(out, 'inside.txt'), 'utf8')).toBe('inside the repository\n');
  });
});

describe('a context server that stalls', () => {
  const remotes = [
    { kind: 'http', name: 'an http context that sends headers and stops', url: () => `http://127.0.0.1:${stalling.httpPort}/ctx.tar`, why: /cannot download the build context .*127\.0\.0\.1:\d+ stalled/ },
    { kind: 'git', name: 'a git context whose server never speaks', url: () => `git://127.0.0.1:${stalling.silentPort}/repo.git`, why: /127\.0\.0\.1:\d+ stalled/ },
  ];

  for (const c of remotes) {
    test(`${c.kind}: the build ends by itself within the [network] limits`, async () => {
      const t0 = performance.now();
      const r = await runKiln(['build', '--progress=plain', '--config', fastConfig, c.url()], { root: state.root });
      const seconds = (performance.now() - t0) / 1000;
      console.log(`${c.name}: exit ${r.code} in ${seconds.toFixed(1)} s`);
      expectCleanFailure(r, c.why);
      expect(seconds).toBeLessThan(BOUND_S);
    }, 60_000);

    test(`${c.kind}: SIGTERM during the stall ends the build within 2 s`, async () => {
      const r = await runUntilSignalled(['build', '--progress=plain', '--config', slowConfig, c.url()], { root: state.root, sig: 'SIGTERM', delayMs: 1000 });
      console.log(`SIGTERM during ${c.name}: exit ${r.code} ${Math.round(r.afterSignalMs)} ms after the signal`);
      expect(r.code).toBe(143);
      expect(r.afterSignalMs).toBeLessThan(2000);
      expect(r.stderr).toContain('build canceled');
    }, 60_000);
  }
});
