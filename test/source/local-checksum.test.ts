/** The context checksum and its metadata index: same answers with or without it, changes always seen. */
import { afterEach, beforeEach, describe, expect, test } from 'bun:test';
import { chmod, mkdir, readFile, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checksumTree } from '../../src/source/local-checksum.ts';
import { checksumSelected } from '../../src/source/local-selected.ts';
import { makeTempDir, removeAll } from '../../src/util/fs.ts';

let dir: string;
let ctx: string;
let indexFile: string;
const OLD = new Date('2024-01-01T00:00:00Z');

/** Files with old mtimes (so the index may vouch for them: not "racy"). */
async function put(rel: string, body: string): Promise<void> {
  await mkdir(join(ctx, rel, '..'), { recursive: true });
  await writeFile(join(ctx, rel), body);
  await utimes(join(ctx, rel), OLD, OLD);
}

beforeEach(async () => {
  dir = await makeTempDir('kiln-checksum-');
  ctx = join(dir, 'ctx');
  indexFile = join(dir, 'index', 'ctx');
  await put('a.txt', 'a\n');
  await put('src/main.c', 'int main(){}\n');
  await put('src/lib/util.c', 'util\n');
  await symlink('main.c', join(ctx, 'src', 'link'));
});
afterEach(async () => {
  await removeAll(dir);
});

/** The index is only trusted for entries older than 2 s: wait until ctimes are old enough. */
const settle = () => new Promise((r) => setTimeout(r, 2100));

describe('checksumTree with a metadata index', () => {
  test('the same digest with and without the index, on the first and later runs', async () => {
    const plain = await checksumTree(ctx);
    await settle();
    expect(await checksumTree(ctx, { indexFile })).toBe(plain);
    expect(await checksumTree(ctx, { indexFile })).toBe(plain);
    expect(JSON.parse(await readFile(`${indexFile}.dirs.json`, 'utf8')).e).toHaveProperty('src/lib');
    // A subtree walk (COPY src ...) shares the index: keys are paths in the context.
    expect(await checksumTree(join(ctx, 'src'), { indexFile, prefix: 'src' })).toBe(await checksumTree(join(ctx, 'src'), { prefix: 'src' }));
  }, 10_000);

  test('an unchanged directory is taken from the index without reading its files', async () => {
    await settle();
    const first = await checksumTree(ctx, { indexFile });
    // Prove the reuse: a forged files part for src/lib (its signature still matching) changes the answer.
    const path = `${indexFile}.dirs.json`;
    const data = JSON.parse(await readFile(path, 'utf8'));
    data.e['src/lib'][1] = '0'.repeat(64);
    await writeFile(path, JSON.stringify(data));
    expect(await checksumTree(ctx, { indexFile })).not.toBe(first);
  }, 10_000);

  test('edits are seen: content, same size with the old mtime put back, mode, new and removed files, links', async () => {
    await settle();
    let last = await checksumTree(ctx, { indexFile });
    const changed = async () => {
      const now = await checksumTree(ctx, { indexFile });
      const plain = await checksumTree(ctx);
      expect(now).toBe(plain);
      expect(now).not.toBe(last);
      last = now;
    };
    await writeFile(join(ctx, 'src/lib/util.c'), 'UTIL\n'); // same size
    await utimes(join(ctx, 'src/lib/util.c'), OLD, OLD); // and the same mtime: only ctime tells
    await changed();
    await chmod(join(ctx, 'a.txt'), 0o600);
    await changed();
    await put('src/new.c', 'new\n');
    await changed();
    await removeAll(join(ctx, 'src/new.c'));
    await changed();
    await removeAll(join(ctx, 'src/link'));
    await symlink('lib/util.c', join(ctx, 'src', 'link'));
    await changed();
  }, 20_000);

  test('touching a file changes nothing', async () => {
    const before = await checksumTree(ctx, { indexFile });
    const t = new Date();
    await utimes(join(ctx, 'a.txt'), t, t);
    expect(await checksumTree(ctx, { indexFile })).toBe(before);
    expect((await stat(join(ctx, 'a.txt'))).mtimeMs).toBe(t.getTime());
  });

  test('a selected subtree (COPY src) has the same key through the index', async () => {
    await settle();
    const a = await checksumSelected(ctx, ['src'], [], checksumTree);
    expect(await checksumSelected(ctx, ['src'], [], checksumTree, indexFile)).toBe(a);
    expect(await checksumSelected(ctx, ['src'], [], checksumTree, indexFile)).toBe(a);
  }, 10_000);
});
