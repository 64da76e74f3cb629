/** ADD of a git repository served by `git daemon` on 127.0.0.1: refs, keep-git-dir, cache by commit. */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeContext, runKiln, tempStateDir } from '../helpers/kiln.ts';
import { makeTempDir, removeAll } from '../../src/util/fs.ts';
import { git, startGitDaemon, type GitDaemon } from '../helpers/git-daemon.ts';

let state: Awaited<ReturnType<typeof tempStateDir>>;
let repos: string;
let daemon: GitDaemon | undefined;
let url = '';

beforeAll(async () => {
  state = await tempStateDir();
  repos = await makeTempDir('kiln-git-');
  const repo = join(repos, 'app.git');
  git(['init', '-q', '-b', 'main', repo], repos);
  await writeFile(join(repo, 'README'), 'v1\n');
  git(['add', '.'], repo);
  git(['commit', '-q', '-m', 'one'], repo);
  git(['tag', 'v1'], repo);
  await writeFile(join(repo, 'README'), 'v2\n');
  git(['commit', '-q', '-am', 'two'], repo);
  daemon = await startGitDaemon(repos);
  url = daemon.url('app.git');
});
afterAll(async () => {
  await daemon?.stop();
  await removeAll(repos);
  await state.cleanup();
});

async function build(dockerfile: string) {
  const ctx = await makeContext({ Dockerfile: dockerfile });
  const out = await makeTempDir('kiln-out-');
  try {
    const r = await runKiln(['build', '--progress=plain', '-o', `type=local,dest=${join(out, 'fs')}`, ctx.dir], { root: state.root });
    const read = (p: string) => readFile(join(out, 'fs', p), 'utf8').catch(() => undefined);
    return { r, head: await read('src/README'), tag: await read('tag/README'), gitDir: await stat(join(out, 'fs', 'kept', '.git')).catch(() => undefined), noGit: await stat(join(out, 'fs', 'src', '.git')).catch(() => undefined) };
  } finally {
    await ctx.cleanup();
    await removeAll(out);
  }
}

describe('ADD git', () => {
  test('a branch, a tag, and --keep-git-dir', async () => {
    const b = await build(`FROM scratch\nADD ${url}#main /src\nADD ${url}#v1 /tag\nADD --keep-git-dir=true ${url} /kept\n`);
    if (b.r.code !== 0) console.error(b.r.stderr);
    expect(b.r.code).toBe(0);
    expect(b.head).toBe('v2\n');
    expect(b.tag).toBe('v1\n');
    expect(b.gitDir?.isDirectory()).toBe(true);
    expect(b.noGit).toBeUndefined();
  });

  test('cached while the commit is the same', async () => {
    const b = await build(`FROM scratch\nADD ${url}#main /src\n`);
    expect(b.r.stderr).toMatch(/0 steps run/);
  });
});
