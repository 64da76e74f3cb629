/**
 * Contexts that are not directories, as docker build reads them: a tar on stdin (plain or
 * gzip), a Dockerfile alone on stdin, a git URL with #ref:subdir (git daemon on 127.0.0.1),
 * and an http URL of a tarball or of a Dockerfile (a small server on 127.0.0.1).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { createServer as createHttpServer, type Server } from 'node:http';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kilnBin, runKiln, tempStateDir } from '../helpers/kiln.ts';
import { makeTempDir, removeAll } from '../../src/util/fs.ts';
import { git, startGitDaemon, type GitDaemon } from '../helpers/git-daemon.ts';

let state: Awaited<ReturnType<typeof tempStateDir>>;
let work: string;
let daemon: GitDaemon | undefined;
let http: Server;
let gitUrl = '';
let httpUrl = '';

beforeAll(async () => {
  state = await tempStateDir();
  work = await makeTempDir('kiln-remotectx-');
  // A context directory, as a tarball and as a repository (the context in sub/ at tag v1).
  const src = join(work, 'src');
  await mkdir(join(src, 'sub'), { recursive: true });
  await writeFile(join(src, 'Dockerfile'), 'FROM scratch\nCOPY hello.txt /\n');
  await writeFile(join(src, 'hello.txt'), 'from the tarball\n');
  await writeFile(join(src, 'sub', 'Dockerfile'), 'FROM scratch\nCOPY sub.txt /\n');
  await writeFile(join(src, 'sub', 'sub.txt'), 'from git v1\n');
  spawnSync('tar', ['-czf', join(work, 'ctx.tgz'), '-C', src, '.']);
  spawnSync('tar', ['-cf', join(work, 'ctx.tar'), '-C', src, '.']);
  git(['init', '-q', '-b', 'main', src], work);
  git(['add', '.'], src);
  git(['commit', '-q', '-m', 'one'], src);
  git(['tag', 'v1'], src);
  await writeFile(join(src, 'sub', 'sub.txt'), 'from git main\n');
  git(['commit', '-q', '-am', 'two'], src);
  daemon = await startGitDaemon(work);
  gitUrl = daemon.url('src');
  http = createHttpServer(async (req, res) => {
    if (req.url === '/ctx.tgz') res.end(await readFile(join(work, 'ctx.tgz')));
    else if (req.url === '/Dockerfile') res.end('FROM scratch\nLABEL from=url\n');
    else {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  httpUrl = `http://127.0.0.1:${(http.address() as { port: number }).port}`;
});
afterAll(async () => {
  await daemon?.stop();
  await new Promise((r) => http?.close(r));
  await removeAll(work);
  await state.cleanup();
});

/** dist/kiln with a file on stdin. */
function kilnWithStdin(args: string[], file: string) {
  const r = spawnSync('sh', ['-c', `"$0" "$@" < "${file}"`, kilnBin, ...args], { env: { ...process.env, KILN_ROOT: state.root }, encoding: 'utf8' });
  return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

const contextTemps = async () => (await readdir(tmpdir())).filter((n) => n.startsWith('kiln-context-'));

describe('remote build contexts', () => {
  test('a tar on stdin, gzip or not; a Dockerfile alone on stdin', async () => {
    for (const archive of ['ctx.tgz', 'ctx.tar']) {
      const out = join(work, `out-${archive}`);
      const r = kilnWithStdin(['build', '--progress=plain', '-o', `type=local,dest=${out}`, '-'], join(work, archive));
      expect(r.code).toBe(0);
      expect(await readFile(join(out, 'hello.txt'), 'utf8')).toBe('from the tarball\n');
    }
    await writeFile(join(work, 'only.Dockerfile'), 'FROM scratch\nLABEL only=dockerfile\n');
    const d = kilnWithStdin(['build', '-q', '-'], join(work, 'only.Dockerfile'));
    expect(d.code).toBe(0);
    expect(d.stdout).toMatch(/^sha256:/);
    expect(await contextTemps()).toEqual([]);
  });

  test('a git URL with #ref:subdir', async () => {
    const at = async (fragment: string) => {
      const out = join(work, `out-git-${fragment.replace(/\W/g, '_')}`);
      const r = await runKiln(['build', '--progress=plain', '-o', `type=local,dest=${out}`, `${gitUrl}#${fragment}`], { root: state.root });
      if (r.code !== 0) throw new Error(r.stderr);
      return readFile(join(out, 'sub.txt'), 'utf8');
    };
    expect(await at('v1:sub')).toBe('from git v1\n');
    expect(await at('main:sub')).toBe('from git main\n');
    const bad = await runKiln(['build', `${gitUrl}#nosuchref`], { root: state.root });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('nosuchref');
  });

  test('an http URL of a tarball or of a Dockerfile; a 404 is a clear error', async () => {
    const out = join(work, 'out-url');
    const r = await runKiln(['build', '--progress=plain', '-o', `type=local,dest=${out}`, `${httpUrl}/ctx.tgz`], { root: state.root });
    expect(r.code).toBe(0);
    expect(await readFile(join(out, 'hello.txt'), 'utf8')).toBe('from the tarball\n');
    const d = await runKiln(['build', '-q', `${httpUrl}/Dockerfile`], { root: state.root });
    expect(d.code).toBe(0);
    const missing = await runKiln(['build', `${httpUrl}/nothing.tgz`], { root: state.root });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('HTTP 404');
    expect(await contextTemps()).toEqual([]);
  });
});
