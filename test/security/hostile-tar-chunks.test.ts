/**
 * The tar chunker (compression of layers, pulled ones under force-compression too) reads size
 * fields of tars nobody on the machine wrote: a size of 2^80 (base-256) or a pax header claiming
 * a terabyte must neither hang it nor make it hold the stream in memory; chunks stay bounded
 * and the bytes come out as they went in.
 */
import { describe, expect, test } from 'bun:test';
import { randomBytes } from 'node:crypto';
import { TarChunker, MAX_CHUNK } from '../../src/snapshot/tar-chunks.ts';

function header(name: string, type: string, sizeField: (h: Buffer) => void): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0);
  h.write('0000644 ', 100);
  sizeField(h);
  h[156] = type.charCodeAt(0);
  h.write('ustar\0', 257);
  return h;
}

function run(input: Buffer): { chunks: Buffer[]; ms: number } {
  const c = new TarChunker();
  const t = performance.now();
  const chunks: Buffer[] = [];
  for (let i = 0; i < input.byteLength; i += 65536) chunks.push(...c.push(input.subarray(i, i + 65536)));
  chunks.push(c.flush());
  return { chunks, ms: performance.now() - t };
}

describe('hostile tar size fields', () => {
  const cases: [string, Buffer][] = [
    ['a file of 2^80 bytes (base-256)', header('huge', '0', (h) => { h[124] = 0x80; h[125] = 1; })],
    ['a negative base-256 size', header('neg', '0', (h) => h.fill(0xff, 124, 136))],
    ['a pax header claiming a terabyte', header('PaxHeader', 'x', (h) => h.write('17777777777 ', 124))],
    ['a size that is not octal', header('junk', '0', (h) => h.write('zzzzzzzzzzz ', 124))],
  ];
  for (const [what, h] of cases) {
    test(`${what}: bounded chunks, quickly, bytes unchanged`, () => {
      const input = Buffer.concat([h, randomBytes(20 << 20)]);
      const { chunks, ms } = run(input);
      expect(ms).toBeLessThan(5000);
      expect(Math.max(...chunks.map((c) => c.byteLength))).toBeLessThanOrEqual(MAX_CHUNK);
      expect(Buffer.concat(chunks).equals(input)).toBe(true);
    });
  }
});
