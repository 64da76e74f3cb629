/**
 * Layer groups (an incremental COPY's delta on the layer it started from): packed as one
 * layer, and cloned into one directory, they give the bytes of the same changes made in one
 * layer. Layers are made by real overlay mounts, whiteouts and all.
 */
import { afterEach, beforeEach, describe, expect, test } from 'bun:test';
import { lstatSync, lutimesSync, readdirSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { extract } from 'tar-stream';
import { packDirectory } from '../../src/snapshot/pack.ts';
import { cloneLayer } from '../../src/snapshot/clone-layer.ts';
import { mountOverlay, unmountPath } from '../../src/snapshot/overlay.ts';
import { makeTempDir, removeAll } from '../../src/util/fs.ts';

let tmp: string;
beforeEach(async () => {
  tmp = await makeTempDir('kiln-group-test-');
});
afterEach(async () => {
  await removeAll(tmp);
});

/** Runs `fn` on an overlay of `lowers` (top first) with a new upper dir `name`; returns the upper dir, its times fixed. */
async function layer(name: string, lowers: string[], fn: (root: string) => Promise<void>): Promise<string> {
  const upper = join(tmp, name);
  const work = join(tmp, `${name}.work`);
  const root = join(tmp, `${name}.root`);
  await Promise.all([mkdir(upper), mkdir(work), mkdir(root)]);
  await mountOverlay({ lowerDirs: lowers, upperDir: upper, workDir: work, target: root });
  try {
    await fn(root);
  } finally {
    await unmountPath(root);
  }
  // Same times everywhere, set on the layer's own entries (no copy-up), so only structure and content count.
  const fix = (dir: string) => {
    for (const n of readdirSync(dir)) {
      const p = join(dir, n);
      if (lstatSync(p).isDirectory()) fix(p);
      lutimesSync(p, 1000, 1000);
    }
  };
  fix(upper);
  return upper;
}

async function tarOf(dir: string | string[]): Promise<Buffer> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  await packDirectory(dir, out, { mode: 'layer' });
  return Buffer.concat(chunks);
}

async function tarNames(dir: string | string[]): Promise<string[]> {
  const names: string[] = [];
  const ex = extract();
  const done = new Promise<void>((resolve, reject) => {
    ex.on('entry', (h, stream, next) => {
      names.push(h.name);
      stream.on('end', next);
      stream.resume();
    });
    ex.on('finish', resolve);
    ex.on('error', reject);
  });
  ex.end(await tarOf(dir));
  await done;
  return names;
}

describe('a layer group', () => {
  test('packs and clones to the bytes of one layer with the same changes', async () => {
    const base = join(tmp, 'base');
    await mkdir(join(base, 'd'), { recursive: true });
    await writeFile(join(base, 'keep.txt'), 'keep\n');
    await writeFile(join(base, 'base-only.txt'), 'base\n');
    await writeFile(join(base, 'd', 'basefile'), 'b\n');

    // The first copy, over the base: new files and a directory, a base file removed (whiteout).
    const bottom = await layer('bottom', [base], async (root) => {
      await writeFile(join(root, 'a.txt'), 'a\n');
      await writeFile(join(root, 'b.txt'), 'b\n');
      await mkdir(join(root, 'e'));
      await writeFile(join(root, 'e', 'x.txt'), 'x\n');
      await writeFile(join(root, 'e', 'y.txt'), 'y\n');
      await rm(join(root, 'base-only.txt'));
    });
    // The delta, over both: an edit, removals of what the first copy made, a new file.
    const delta = await layer('delta', [bottom, base], async (root) => {
      await rm(join(root, 'a.txt'));
      await writeFile(join(root, 'a.txt'), 'a, edited\n');
      await rm(join(root, 'b.txt'));
      await rm(join(root, 'e', 'x.txt'));
      await writeFile(join(root, 'e', 'z.txt'), 'z\n');
    });
    // The same end state in one layer.
    const flat = await layer('flat', [base], async (root) => {
      await writeFile(join(root, 'a.txt'), 'a, edited\n');
      await mkdir(join(root, 'e'));
      await writeFile(join(root, 'e', 'y.txt'), 'y\n');
      await writeFile(join(root, 'e', 'z.txt'), 'z\n');
      await rm(join(root, 'base-only.txt'));
    });

    const expected = await tarOf(flat);
    expect(await tarNames(flat)).toEqual(['a.txt', '.wh.base-only.txt', 'e/', 'e/y.txt', 'e/z.txt']);
    expect((await tarOf([delta, bottom])).equals(expected)).toBe(true);

    const clone = join(tmp, 'clone');
    await mkdir(clone);
    expect(await cloneLayer([delta, bottom], clone)).toBe(true);
    lutimesSync(join(clone, 'e'), 1000, 1000);
    expect((await tarOf(clone)).equals(expected)).toBe(true);
    // The layers the clone links to are untouched.
    expect(await tarNames(bottom)).toEqual(['a.txt', 'b.txt', '.wh.base-only.txt', 'e/', 'e/x.txt', 'e/y.txt']);
  });
});
