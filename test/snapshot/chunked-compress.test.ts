/**
 * Parallel, deterministic, incremental layer compression: the same tar gives the same blob
 * with 1 or N threads (gzip and zstd), every member stands alone, the cuts come back after an
 * edit, and members reused from an earlier blob give byte for byte the blob a fresh
 * compression gives. gzip(1) and zstd(1) read the multi-member results.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { createHash, randomBytes } from 'node:crypto';
import * as zlib from 'node:zlib';
import { createChunkedCompressor, type Member, type ReusableMember } from '../../src/snapshot/chunked-compress.ts';
import { packDirectory } from '../../src/snapshot/pack.ts';
import { TARGET_CHUNK } from '../../src/snapshot/tar-chunks.ts';
import { makeTempDir, removeAll } from '../../src/util/fs.ts';

let dir: string;
let tree: string;

async function tarOf(root: string): Promise<Buffer> {
  const out = new PassThrough();
  const [, bytes] = await Promise.all([packDirectory(root, out, { mode: 'layer' }), buffer(out)]);
  return bytes;
}

async function compress(tar: Buffer, compression: 'gzip' | 'zstd', concurrency: number, reuse?: Map<string, ReusableMember>) {
  // Fed in odd-sized pieces: where chunks end must not depend on how the bytes arrive.
  const pieces: Buffer[] = [];
  for (let i = 0, n = 777; i < tar.byteLength; i += n, n = (n * 7) % 100_003 + 1) pieces.push(tar.subarray(i, i + n));
  const c = createChunkedCompressor({ compression, concurrency, reuse });
  const bytes = await buffer(Readable.from(pieces).pipe(c));
  return { bytes, members: c.members(), reused: c.reused() };
}

const unzip = (b: Buffer, compression: 'gzip' | 'zstd') => (compression === 'gzip' ? zlib.gunzipSync(b) : (zlib as unknown as { zstdDecompressSync(b: Buffer): Buffer }).zstdDecompressSync(b));
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  dir = await makeTempDir('kiln-chunks-');
  tree = join(dir, 'tree');
  for (let i = 0; i < 3000; i++) {
    await mkdir(join(tree, `d${i % 30}`), { recursive: true });
    await writeFile(join(tree, `d${i % 30}`, `f${i}`), `small file ${i}\n`.repeat(50 + (i % 200)));
  }
  await mkdir(join(tree, 'big'));
  for (let i = 0; i < 3; i++) await writeFile(join(tree, 'big', `b${i}`), Buffer.concat([randomBytes(3 << 20), Buffer.alloc(1 << 20, i)]));
});
afterAll(() => removeAll(dir));

describe('chunked compression', () => {
  for (const compression of ['gzip', 'zstd'] as const) {
    test(`${compression}: one digest with 1 and with 4 threads; members stand alone; the tool reads it`, async () => {
      const tar = await tarOf(tree);
      const one = await compress(tar, compression, 1);
      const four = await compress(tar, compression, 4);
      expect(sha(four.bytes)).toBe(sha(one.bytes));
      expect(one.members.length).toBeGreaterThan(10);
      expect(unzip(one.bytes, compression).equals(tar)).toBe(true);
      // Each member decompresses alone; big files are cut inside their data too.
      let total = 0;
      for (const m of one.members) {
        const part = unzip(one.bytes.subarray(m.offset, m.offset + m.length), compression);
        expect(sha(part)).toBe(m.sha);
        expect(part.byteLength).toBeLessThanOrEqual(TARGET_CHUNK * 2);
        total += part.byteLength;
      }
      expect(total).toBe(tar.byteLength);
      const tool = spawnSync(compression, ['-dc'], { input: one.bytes, maxBuffer: 1 << 30 });
      expect(tool.status).toBe(0);
      expect(sha(tool.stdout)).toBe(sha(tar));
    });
  }

  test('after a small edit the cuts come back: the unchanged chunks are reused, and the blob is the fresh one', async () => {
    const before = await tarOf(tree);
    const first = await compress(before, 'gzip', 2);
    await writeFile(join(tree, 'd7', 'f1507'), 'edited, and longer than it was: '.repeat(400));
    const after = await tarOf(tree);
    const fresh = await compress(after, 'gzip', 2);
    const known = new Set(first.members.map((m: Member) => m.sha));
    const changed = fresh.members.filter((m) => !known.has(m.sha));
    expect(changed.length).toBeGreaterThanOrEqual(1);
    expect(changed.length).toBeLessThanOrEqual(2);
    await writeFile(join(dir, 'first.gz'), first.bytes);
    const reuse = new Map(first.members.map((m) => [m.sha, { path: join(dir, 'first.gz'), offset: m.offset, length: m.length }]));
    const incremental = await compress(after, 'gzip', 2, reuse);
    expect(incremental.reused).toBe(fresh.members.length - changed.length);
    expect(sha(incremental.bytes)).toBe(sha(fresh.bytes));
  });

  test('empty input gives one empty member; a reuse entry whose blob is gone is compressed instead', async () => {
    const empty = await compress(Buffer.alloc(0), 'gzip', 2);
    expect(zlib.gunzipSync(empty.bytes).byteLength).toBe(0);
    const tar = await tarOf(join(tree, 'd3'));
    const plain = await compress(tar, 'gzip', 2);
    const gone = new Map(plain.members.map((m) => [m.sha, { path: join(dir, 'no-such-blob'), offset: m.offset, length: m.length }]));
    const again = await compress(tar, 'gzip', 2, gone);
    expect(again.reused).toBe(0);
    expect(sha(again.bytes)).toBe(sha(plain.bytes));
  });
});
