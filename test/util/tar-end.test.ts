/**
 * tar-end.ts stops a tar at its end-of-archive marker, as Go's archive/tar does: the bytes
 * after it are never parsed (an endless input ends), and go to `rest` when asked for.
 */
import { expect, test } from 'bun:test';
import { Readable, Writable } from 'node:stream';
import { pack } from 'tar-stream';
import { feedTar, tarFraming } from '../../src/util/tar-end.ts';

async function tarOf(files: Record<string, string | Buffer>): Promise<Buffer> {
  const p = pack();
  for (const [name, body] of Object.entries(files)) p.entry({ name }, body);
  p.finalize();
  const parts: Buffer[] = [];
  for await (const c of p) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

/** Where tarFraming says the archive ends, fed in chunks of `size` bytes. */
function archiveLength(bytes: Buffer, size: number): { length: number; ended: boolean } {
  const f = tarFraming();
  let length = 0;
  for (let off = 0; off < bytes.length; off += size) length += f.push(bytes.subarray(off, off + size));
  return { length, ended: f.ended };
}

test('the archive ends at the second zero block, whatever the chunking', async () => {
  const tar = await tarOf({ a: 'x'.repeat(700), 'dir/b': Buffer.alloc(1024, 1), empty: '' });
  // tar-stream pads to the marker only (two zero blocks): the archive is the whole buffer
  const trailing = Buffer.concat([Buffer.alloc(5000), Buffer.from('garbage after the end')]);
  for (const size of [1, 7, 512, 513, 4096, 1 << 20]) {
    expect(archiveLength(Buffer.concat([tar, trailing]), size)).toEqual({ length: tar.length, ended: true });
  }
});

test('one zero block between entries is not the end', async () => {
  const first = await tarOf({ a: 'one' });
  const second = await tarOf({ b: 'two' });
  // a lone zero block, then another archive's entries: still one archive
  const entryA = first.subarray(0, first.length - 1024);
  const bytes = Buffer.concat([entryA, Buffer.alloc(512), second]);
  expect(archiveLength(bytes, 100)).toEqual({ length: bytes.length, ended: true });
});

test('a GNU base-256 size field is read as a size', () => {
  const header = Buffer.alloc(512);
  header.write('big', 0);
  header.write('0000644\0', 100);
  header[124] = 0x80; // base-256: the remaining 11 bytes, big-endian
  header.writeUInt16BE(1024, 134);
  header.write('0', 156);
  const bytes = Buffer.concat([header, Buffer.alloc(1024, 7), Buffer.alloc(1024), Buffer.from('after')]);
  expect(archiveLength(bytes, 300)).toEqual({ length: 512 + 1024 + 1024, ended: true });
});

function sink(): Writable & { bytes(): Buffer } {
  const parts: Buffer[] = [];
  const w = new Writable({
    write(c, _e, cb) {
      parts.push(c as Buffer);
      cb();
    },
  }) as Writable & { bytes(): Buffer };
  w.bytes = () => Buffer.concat(parts);
  return w;
}

test('feedTar hands the trailing bytes to rest, and the archive to the extractor', async () => {
  const tar = await tarOf({ a: 'hello' });
  const after = Buffer.from('trailing padding and more');
  const out = sink();
  const rest: Buffer[] = [];
  await feedTar(Readable.from([Buffer.concat([tar, after])]), out, (c) => rest.push(Buffer.from(c)));
  expect(out.bytes().equals(tar)).toBe(true);
  expect(Buffer.concat(rest).equals(after)).toBe(true);
});

test('feedTar without rest stops reading an endless source at the marker', async () => {
  const tar = await tarOf({ a: 'hello' });
  let pulled = 0;
  const endless = new Readable({
    read() {
      pulled++;
      this.push(pulled === 1 ? tar : Buffer.alloc(64 << 10));
    },
  });
  const out = sink();
  await feedTar(endless, out);
  expect(out.bytes().equals(tar)).toBe(true);
  expect(endless.destroyed).toBe(true);
  expect(pulled).toBeLessThan(10);
});
