/** .dockerignore through dist/kiln: ignored files are not in the image and do not affect the cache. */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeContext, runKiln, tempStateDir } from '../helpers/kiln.ts';
import { makeTempDir, removeAll } from '../../src/util/fs.ts';

let state: Awaited<ReturnType<typeof tempStateDir>>;
let ctx: Awaited<ReturnType<typeof makeContext>>;
let out: string;
beforeAll(async () => {
  state = await tempStateDir();
  out = await makeTempDir('kiln-out-');
  ctx = await makeContext({
    Dockerfile: 'FROM scratch\nCOPY . /app\n',
    '.dockerignore': '# comment\n*.log\nsecrets/\n!keep.log\nbuild/**/*.o\n',
    'main.c': 'int main;\n',
    'debug.log': 'noise\n',
    'keep.log': 'kept\n',
    'secrets/key': 'private\n',
    'build/x/y/obj.o': 'o\n',
    'build/x/y/readme': 'r\n',
    'other.Dockerfile': 'FROM scratch\nCOPY . /app\n',
    'other.Dockerfile.dockerignore': 'main.c\n',
  });
});
afterAll(async () => {
  await ctx.cleanup();
  await removeAll(out);
  await state.cleanup();
});

async function files(dir: string, prefix = ''): Promise<string[]> {
  const outl: string[] = [];
  for (const e of await readdir(join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) outl.push(...(await files(dir, rel)));
    else outl.push(rel);
  }
  return outl.sort();
}

describe('.dockerignore', () => {
  test('excluded paths are not copied; ! re-includes; ** spans directories', async () => {
    const r = await runKiln(['build', '--progress=plain', '-o', `type=local,dest=${join(out, 'a')}`, ctx.dir], { root: state.root });
    expect(r.code).toBe(0);
    expect(await files(join(out, 'a', 'app'))).toEqual(['.dockerignore', 'Dockerfile', 'build/x/y/readme', 'keep.log', 'main.c', 'other.Dockerfile', 'other.Dockerfile.dockerignore']);
  });

  test('editing an ignored file keeps the COPY cached; editing a copied one does not', async () => {
    await writeFile(join(ctx.dir, 'debug.log'), 'more noise\n');
    await writeFile(join(ctx.dir, 'secrets/key'), 'rotated\n');
    const r = await runKiln(['build', '--progress=plain', ctx.dir], { root: state.root });
    expect(r.stderr).toMatch(/0 steps run/);
    await writeFile(join(ctx.dir, 'main.c'), 'int main(){}\n');
    const r2 = await runKiln(['build', '--progress=plain', ctx.dir], { root: state.root });
    expect(r2.stderr).toMatch(/1 steps run/);
  });

  test('<Dockerfile>.dockerignore replaces .dockerignore', async () => {
    const r = await runKiln(['build', '-f', join(ctx.dir, 'other.Dockerfile'), '-o', `type=local,dest=${join(out, 'b')}`, ctx.dir], { root: state.root });
    expect(r.code).toBe(0);
    const got = await files(join(out, 'b', 'app'));
    expect(got).not.toContain('main.c');
    expect(got).toContain('debug.log');
    expect(got).toContain('secrets/key');
  });

  test('COPY of an ignored file fails as if it were not there', async () => {
    await writeFile(join(ctx.dir, 'Dockerfile'), 'FROM scratch\nCOPY debug.log /\n');
    const r = await runKiln(['build', '--progress=plain', ctx.dir], { root: state.root });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('"/debug.log" not found');
    expect(await readFile(join(ctx.dir, 'debug.log'), 'utf8')).toBe('more noise\n');
  });
});

describe('COPY --parents and --exclude', () => {
  test('--parents keeps source paths (with a /./ pivot); --exclude leaves paths out', async () => {
    const c = await makeContext({
      Dockerfile: [
        'FROM scratch',
        'COPY --parents src/a/one.txt src/b/*.txt /p/',
        'COPY --parents ./src/./b/two.txt /pivot/',
        'COPY --exclude=**/*.md --exclude=b src /ex/',
        '',
      ].join('\n'),
      'src/a/one.txt': '1\n',
      'src/a/skip.md': 'm\n',
      'src/b/two.txt': '2\n',
      'src/b/three.txt': '3\n',
      'src/b/no.bin': 'x\n',
    });
    try {
      const r = await runKiln(['build', '--progress=plain', '-o', `type=local,dest=${join(out, 'c')}`, c.dir], { root: state.root });
      if (r.code !== 0) console.error(r.stderr);
      expect(r.code).toBe(0);
      expect(await files(join(out, 'c', 'p'))).toEqual(['src/a/one.txt', 'src/b/three.txt', 'src/b/two.txt']);
      expect(await files(join(out, 'c', 'pivot'))).toEqual(['b/two.txt']);
      expect(await files(join(out, 'c', 'ex'))).toEqual(['a/one.txt']);
    } finally {
      await c.cleanup();
    }
  });
});
