/** ADD of local files: archives (by content, any of tar/gzip/bzip2/xz) are extracted, other files copied. */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { mkdir, readFile, readlink, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runKiln, tempStateDir } from '../helpers/kiln.ts';
import { makeTempDir, removeAll } from '../../src/util/fs.ts';

let state: Awaited<ReturnType<typeof tempStateDir>>;
let ctx: string;
let out: string;

beforeAll(async () => {
  state = await tempStateDir();
  ctx = await makeTempDir('kiln-ctx-');
  out = await makeTempDir('kiln-out-');
  const src = join(ctx, 'src');
  await mkdir(join(src, 'dir'), { recursive: true });
  await writeFile(join(src, 'dir', 'inner.txt'), 'inner\n');
  await writeFile(join(src, 'top.txt'), 'top\n');
  spawnSync('ln', ['-s', 'top.txt', join(src, 'link')]);
  const tar = (name: string, flag: string) => spawnSync('tar', [`-c${flag}f`, join(ctx, name), '--owner=1234', '--group=5678', '-C', src, '.']);
  tar('plain.tar', '');
  tar('gz.tar.gz', 'z');
  tar('bz.tar.bz2', 'j');
  tar('xz.tar.xz', 'J');
  tar('renamed.tmp', 'z');
  await rename(join(ctx, 'renamed.tmp'), join(ctx, 'data.bin'));
  await writeFile(join(ctx, 'notes.gz'), 'not really gzip\n');
  await writeFile(
    join(ctx, 'Dockerfile'),
    ['FROM scratch', 'ADD plain.tar /plain/', 'ADD gz.tar.gz /gz', 'ADD bz.tar.bz2 /bz/', 'ADD xz.tar.xz /xz/', 'ADD data.bin /renamed/', 'ADD notes.gz /notes/', 'ADD --chown=7:8 gz.tar.gz /owned/', 'COPY --chmod=u+x,go-w notes.gz /sym', 'COPY --chmod=0705 notes.gz /oct', ''].join('\n'),
  );
});

afterAll(async () => {
  await removeAll(ctx);
  await removeAll(out);
  await state.cleanup();
});

describe('ADD of local files', () => {
  test('archives are extracted whatever their name; other files are copied', async () => {
    const dest = join(out, 'fs');
    const r = await runKiln(['build', '--progress=plain', '-o', `type=local,dest=${dest}`, ctx], { root: state.root });
    if (r.code !== 0) console.error(r.stderr);
    expect(r.code).toBe(0);
    for (const d of ['plain', 'gz', 'bz', 'xz', 'renamed']) {
      expect(await readFile(join(dest, d, 'dir', 'inner.txt'), 'utf8')).toBe('inner\n');
      expect(await readlink(join(dest, d, 'link'))).toBe('top.txt');
      const st = await stat(join(dest, d, 'top.txt'));
      expect([st.uid, st.gid]).toEqual([1234, 5678]);
    }
    expect(await readFile(join(dest, 'notes', 'notes.gz'), 'utf8')).toBe('not really gzip\n');
    expect(((await stat(join(dest, 'sym'))).mode & 0o7777).toString(8)).toBe('744');
    expect(((await stat(join(dest, 'oct'))).mode & 0o7777).toString(8)).toBe('705');
    const owned = await stat(join(dest, 'owned', 'dir', 'inner.txt'));
    expect([owned.uid, owned.gid]).toEqual([7, 8]);
  });

  test('an archive entry with .. fails the build; a symlink entry cannot lead outside', async () => {
    const { pack } = await import('tar-stream');
    const { createWriteStream } = await import('node:fs');
    const { pipeline } = await import('node:stream/promises');
    const bad = await makeTempDir('kiln-ctx-');
    try {
      const p = pack();
      p.entry({ name: 'esc', type: 'symlink', linkname: '/' });
      p.entry({ name: 'esc/inside-root.txt' }, 'stays in the image\n');
      p.entry({ name: '../../escaped.txt' }, 'x');
      p.finalize();
      await pipeline(p as unknown as NodeJS.ReadableStream, createWriteStream(join(bad, 'evil.tar')));
      await writeFile(join(bad, 'Dockerfile'), 'FROM scratch\nADD evil.tar /x/\n');
      const r = await runKiln(['build', '--progress=plain', bad], { root: state.root });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('escapes the destination');
      expect(await stat('/escaped.txt').catch(() => undefined)).toBeUndefined();
      expect(await stat('/inside-root.txt').catch(() => undefined)).toBeUndefined();
    } finally {
      await removeAll(bad);
    }
  });
});

describe('COPY --link', () => {
  test('the linked layer is reused unchanged when the layers below it change', async () => {
    const { readFile: rf } = await import('node:fs/promises');
    const c = await makeTempDir('kiln-ctx-');
    const o = await makeTempDir('kiln-out-');
    try {
      await writeFile(join(c, 'app.txt'), 'app\n');
      const build = async (base: string, name: string) => {
        await writeFile(join(c, 'Dockerfile'), `FROM scratch\nCOPY base.txt /\nCOPY --link app.txt /app/\n`);
        await writeFile(join(c, 'base.txt'), base);
        const r = await runKiln(['build', '--progress=plain', '-o', `type=oci,dest=${join(o, name)},tar=false`, c], { root: state.root });
        expect(r.code).toBe(0);
        const index = JSON.parse(await rf(join(o, name, 'index.json'), 'utf8'));
        const manifest = JSON.parse(await rf(join(o, name, 'blobs', 'sha256', index.manifests[0].digest.slice(7)), 'utf8'));
        return { layers: manifest.layers.map((l: { digest: string }) => l.digest) as string[], stderr: r.stderr };
      };
      const one = await build('v1\n', 'one');
      const two = await build('v2\n', 'two');
      expect(one.layers).toHaveLength(2);
      expect(two.layers[0]).not.toBe(one.layers[0]);
      expect(two.layers[1]).toBe(one.layers[1]);
      expect(two.stderr).toMatch(/COPY --link app.txt \/app\/\n#\d+ CACHED/);
    } finally {
      await removeAll(c);
      await removeAll(o);
    }
  });
});
