import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdir, readFile, readdir, readlink, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { makeTempDir } from '../../src/util/fs.ts';
import { sha256 } from '../../src/util/digest.ts';
import { createTarExporter } from '../../src/exporter/tar.ts';
import type { ExportImage, ExportSource } from '../../src/exporter/types.ts';
import { listTar, runTool } from '../helpers/verify-image.ts';
import { makeRootfsDir, sourceOf } from './fixtures.ts';

let dir: string;
let rootfs: string;
const image: ExportImage = {
  layers: [],
  config: { architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [] } },
};

function counted(rootDir: string): { src: ExportSource; released: () => number } {
  let n = 0;
  return {
    src: { ...sourceOf(image, []), openRootfs: async () => ({ dir: rootDir, release: async () => void n++ }) },
    released: () => n,
  };
}

beforeAll(async () => {
  dir = await makeTempDir('kiln-tar-test-');
  rootfs = join(dir, 'rootfs');
  await mkdir(rootfs);
  await makeRootfsDir(rootfs);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('tar exporter', () => {
  test('writes a tar of the rootfs that tar extracts', async () => {
    const dest = join(dir, 'out', 'rootfs.tar');
    const { src, released } = counted(rootfs);
    const result = await createTarExporter({ dest }).export(src);
    expect(result).toEqual({ kind: 'tar', dest });
    expect(released()).toBe(1);
    const names = (await listTar(dest)).map((n) => n.replace(/^\.\//, '').replace(/\/$/, ''));
    for (const want of ['etc/hello.txt', 'etc/abs-link', 'app/rel-link', 'app/deep/er/file.txt']) expect(names).toContain(want);
    const x = join(dir, 'x');
    await mkdir(x);
    await runTool('tar', ['-xf', dest, '-C', x]);
    expect(await readFile(join(x, 'etc', 'hello.txt'), 'utf8')).toBe('hello\n');
    expect(await readFile(join(x, 'app', 'deep', 'er', 'file.txt'), 'utf8')).toBe('deep\n');
    expect(await readlink(join(x, 'etc', 'abs-link'))).toBe('/etc/hello.txt');
    expect(await readlink(join(x, 'app', 'rel-link'))).toBe('../etc/hello.txt');
    expect(await readdir(join(dir, 'out'))).toEqual(['rootfs.tar']);
  });

  test("is deterministic, and dest '-' writes the same bytes to the given stream", async () => {
    const a = join(dir, 'a.tar');
    const b = join(dir, 'b.tar');
    await createTarExporter({ dest: a }).export(counted(rootfs).src);
    await createTarExporter({ dest: b }).export(counted(rootfs).src);
    expect(sha256(await readFile(a))).toBe(sha256(await readFile(b)));

    const chunks: Buffer[] = [];
    const stdout = new Writable({
      write(chunk: Buffer, _e, cb) {
        chunks.push(chunk);
        cb();
      },
    });
    await createTarExporter({ dest: '-', stdout }).export(counted(rootfs).src);
    expect(stdout.writableEnded).toBe(false);
    expect(sha256(Buffer.concat(chunks))).toBe(sha256(await readFile(a)));
  });

  test('a failure leaves nothing at dest, keeps an older file, and releases the view', async () => {
    const outDir = join(dir, 'fail');
    await mkdir(outDir);
    const dest = join(outDir, 'rootfs.tar');
    await writeFile(dest, 'old');
    const { src, released } = counted(join(dir, 'no-such-dir'));
    await expect(createTarExporter({ dest }).export(src)).rejects.toThrow();
    expect(released()).toBe(1);
    expect(await readdir(outDir)).toEqual(['rootfs.tar']);
    expect(await readFile(dest, 'utf8')).toBe('old');
    expect(() => createTarExporter({ dest: '' })).toThrow(/dest/);
  });
});
