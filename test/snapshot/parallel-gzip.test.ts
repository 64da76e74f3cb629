/** Parallel gzip: a valid gzip stream (GNU gzip and zlib read it), deterministic, also for empty input. */
import { describe, expect, test } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { createParallelGzip } from '../../src/snapshot/parallel-gzip.ts';

async function compress(data: Buffer, chunk = 65536, blockSize = 1 << 16): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (let o = 0; o < data.length; o += chunk) parts.push(data.subarray(o, o + chunk));
  const out: Buffer[] = [];
  const z = Readable.from(parts).pipe(createParallelGzip({ blockSize, concurrency: 3 }));
  for await (const c of z) out.push(c as Buffer);
  return Buffer.concat(out);
}

describe('parallel gzip', () => {
  test('round-trips through zlib and GNU gzip, whatever the chunking; same bytes every time', async () => {
    const data = Buffer.concat([randomBytes(300_000), Buffer.alloc(200_000, 'abc'), randomBytes(1234)]);
    const a = await compress(data, 65536);
    const b = await compress(data, 7777);
    expect(b.equals(a)).toBe(true);
    expect(gunzipSync(a).equals(data)).toBe(true);
    const gnu = spawnSync('gzip', ['-dc'], { input: a });
    expect(gnu.status).toBe(0);
    expect(Buffer.from(gnu.stdout).equals(data)).toBe(true);
  });

  test('empty input is one empty gzip member', async () => {
    const z = await compress(Buffer.alloc(0));
    expect(z.length).toBeGreaterThan(0);
    expect(gunzipSync(z).length).toBe(0);
  });
});
