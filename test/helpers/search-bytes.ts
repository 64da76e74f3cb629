/**
 * Searches files for byte strings the way an attacker would: every file under the given paths,
 * looking inside tar archives (entry by entry) and gzip/zstd streams (decompressed), however
 * deeply they nest (an OCI tar holding gzip layers holding tars). Returns one line per hit.
 */
import { lstat, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as zlib from 'node:zlib';

const isGzip = (b: Uint8Array) => b[0] === 0x1f && b[1] === 0x8b;
const isZstd = (b: Uint8Array) => b[0] === 0x28 && b[1] === 0xb5 && b[2] === 0x2f && b[3] === 0xfd;
const isTar = (b: Uint8Array) => b.byteLength >= 512 && Buffer.from(b.subarray(257, 262)).toString('latin1') === 'ustar';

function* tarEntries(b: Uint8Array): Generator<{ name: string; data: Uint8Array }> {
  let off = 0;
  while (off + 512 <= b.byteLength) {
    const h = b.subarray(off, off + 512);
    if (h.every((x) => x === 0)) return;
    const name = Buffer.from(h.subarray(0, 100)).toString('utf8').replace(/\0.*$/s, '');
    const size = parseInt(Buffer.from(h.subarray(124, 136)).toString('latin1').replace(/\0.*$/s, '').trim() || '0', 8);
    const data = b.subarray(off + 512, off + 512 + size);
    yield { name, data };
    off += 512 + Math.ceil(size / 512) * 512;
  }
}

function searchBuffer(where: string, b: Uint8Array, needles: Buffer[], hits: string[], depth = 0): void {
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  for (const n of needles) if (buf.includes(n)) hits.push(`${where}: contains "${n.toString('utf8')}"`);
  if (depth > 6) return;
  try {
    if (isGzip(b)) searchBuffer(`${where} (gunzipped)`, zlib.gunzipSync(b), needles, hits, depth + 1);
    else if (isZstd(b) && 'zstdDecompressSync' in zlib) {
      const z = (zlib as unknown as { zstdDecompressSync(b: Uint8Array): Buffer }).zstdDecompressSync(b);
      searchBuffer(`${where} (unzstd)`, z, needles, hits, depth + 1);
    } else if (isTar(b)) {
      for (const e of tarEntries(b)) searchBuffer(`${where}!${e.name}`, e.data, needles, hits, depth + 1);
    }
  } catch {
    // not really compressed: the raw search above covered it
  }
}

export async function searchBytes(paths: string[], needles: string[]): Promise<string[]> {
  const hits: string[] = [];
  const bufs = needles.map((n) => Buffer.from(n));
  const visit = async (p: string): Promise<void> => {
    const st = await lstat(p).catch(() => undefined);
    if (!st) return;
    if (st.isDirectory()) {
      for (const name of await readdir(p)) await visit(join(p, name));
    } else if (st.isFile()) {
      searchBuffer(p, await readFile(p), bufs, hits);
    }
  };
  for (const p of paths) await visit(p);
  return hits;
}
