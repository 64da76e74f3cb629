import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { chmod, chown, link, lstat, lutimes, mkdir, readFile, readdir, readlink, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { makeTempDir } from '../../src/util/fs.ts';
import { createLocalExporter } from '../../src/exporter/local.ts';
import type { ExportImage } from '../../src/exporter/types.ts';
import { runTool } from '../helpers/verify-image.ts';
import { sourceOf } from './fixtures.ts';

let dir: string;
let rootfs: string;
const image: ExportImage = {
  layers: [],
  config: { architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [] } },
};
const T = 1_700_000_000;

/** A tree with every kind of entry and metadata the local exporter must keep. */
async function makeTree(root: string): Promise<void> {
  await mkdir(join(root, 'etc'), { recursive: true });
  await mkdir(join(root, 'app', 'deep'), { recursive: true });
  await mkdir(join(root, 'dev'));
  await writeFile(join(root, 'etc', 'hello.txt'), 'hello\n');
  await writeFile(join(root, 'app', 'big.bin'), Buffer.alloc(2_000_000, 7));
  await writeFile(join(root, 'app', 'suid'), '#!/bin/sh\n');
  await chmod(join(root, 'app', 'suid'), 0o4755);
  await writeFile(join(root, 'app', 'deep', 'owned'), 'x');
  await chown(join(root, 'app', 'deep', 'owned'), 1234, 5678);
  await chmod(join(root, 'app', 'deep'), 0o1770);
  await link(join(root, 'etc', 'hello.txt'), join(root, 'app', 'hello-hardlink'));
  await symlink('/etc/hello.txt', join(root, 'etc', 'abs-link'));
  await symlink('../etc/missing', join(root, 'app', 'dangling-link'));
  await runTool('mkfifo', [join(root, 'dev', 'fifo')]);
  await runTool('mknod', [join(root, 'dev', 'null'), 'c', '1', '3']);
  await lutimes(join(root, 'etc', 'abs-link'), T, T + 1);
  await utimes(join(root, 'etc', 'hello.txt'), T, T + 2);
  for (const d of ['app/deep', 'app', 'etc', 'dev', '.']) await utimes(join(root, d), T, T + 3);
}

interface Meta {
  type: string;
  mode: number;
  uid: number;
  gid: number;
  mtimeMs: number;
  size: number;
  rdev: number;
  link?: string;
  ino: number;
}

async function snapshot(root: string): Promise<Record<string, Meta>> {
  const out: Record<string, Meta> = {};
  async function walk(p: string): Promise<void> {
    const st = await lstat(p);
    const type = st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : st.isFile() ? 'file' : st.isFIFO() ? 'fifo' : st.isCharacterDevice() ? 'char' : 'other';
    out[relative(root, p) || '.'] = {
      type,
      mode: st.mode,
      uid: st.uid,
      gid: st.gid,
      mtimeMs: Math.floor(st.mtimeMs),
      size: type === 'dir' ? 0 : st.size,
      rdev: st.rdev,
      link: type === 'symlink' ? await readlink(p) : undefined,
      ino: 0,
    };
    if (type === 'dir') for (const n of (await readdir(p)).sort()) await walk(join(p, n));
  }
  await walk(root);
  return out;
}

beforeAll(async () => {
  dir = await makeTempDir('kiln-local-test-');
  rootfs = join(dir, 'rootfs');
  await mkdir(rootfs);
  await makeTree(rootfs);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('local exporter', () => {
  test('copies the tree with types, modes, owners, links and times', async () => {
    const dest = join(dir, 'out', 'nested');
    let released = 0;
    const src = { ...sourceOf(image, []), openRootfs: async () => ({ dir: rootfs, release: async () => void released++ }) };
    const result = await createLocalExporter({ dest }).export(src);
    expect(result).toEqual({ kind: 'local', dest });
    expect(released).toBe(1);
    expect(await snapshot(dest)).toEqual(await snapshot(rootfs));
    const a = await lstat(join(dest, 'etc', 'hello.txt'));
    const b = await lstat(join(dest, 'app', 'hello-hardlink'));
    expect(a.ino).toBe(b.ino);
    expect(a.nlink).toBe(2);
    expect(await readFile(join(dest, 'app', 'big.bin'))).toEqual(Buffer.alloc(2_000_000, 7));
    expect((await readdir(join(dir, 'out'))).sort()).toEqual(['nested']);
  });

  test('merges into a directory that already holds files', async () => {
    const dest = join(dir, 'merge');
    await mkdir(join(dest, 'etc', 'hello.txt'), { recursive: true });
    await writeFile(join(dest, 'keep.txt'), 'keep');
    await writeFile(join(dest, 'app'), 'a file where a dir goes');
    await createLocalExporter({ dest }).export(sourceOf(image, [], rootfs));
    expect(await readFile(join(dest, 'keep.txt'), 'utf8')).toBe('keep');
    const snap = await snapshot(dest);
    delete snap['keep.txt'];
    const want = await snapshot(rootfs);
    delete want['.'];
    delete snap['.'];
    expect(snap).toEqual(want);
    const names = await runTool('find', [dest, '-name', '*.tmp-*']);
    expect(names.stdout).toBe('');
  });

  test('an existing empty directory is replaced; a file at dest is refused; the view is released on failure', async () => {
    const dest = join(dir, 'empty');
    await mkdir(dest);
    await createLocalExporter({ dest }).export(sourceOf(image, [], rootfs));
    expect(await readFile(join(dest, 'etc', 'hello.txt'), 'utf8')).toBe('hello\n');

    const file = join(dir, 'a-file');
    await writeFile(file, 'x');
    let opened = 0;
    let released = 0;
    const src = { ...sourceOf(image, []), openRootfs: async () => (opened++, { dir: rootfs, release: async () => void released++ }) };
    await expect(createLocalExporter({ dest: file }).export(src)).rejects.toThrow(/not a directory/);
    // Refused before anything is mounted; whatever was opened is released.
    expect(released).toBe(opened);
    expect(() => createLocalExporter({ dest: '-' })).toThrow(/stdout/);
  });

  test('a failed copy leaves nothing at dest', async () => {
    const dest = join(dir, 'failed');
    const missing = join(dir, 'no-such-rootfs');
    await expect(createLocalExporter({ dest }).export(sourceOf(image, [], missing))).rejects.toThrow();
    expect((await readdir(dir)).filter((n) => n.startsWith('failed'))).toEqual([]);
  });
});
