/**
 * Where a tar archive ends. tar-stream's extractor reads past the end-of-archive marker (two
 * zero blocks) for as long as its input lasts, so an endless input (`/dev/zero`, a
 * decompression bomb of zeros) keeps it busy forever. Go's archive/tar, which BuildKit uses,
 * stops at the marker. feedTar gives the extractor the archive up to the marker and no more;
 * what follows (trailing padding) goes to `rest` (to be hashed, when a digest covers the whole
 * stream) or is not read at all.
 */
import type { Readable, Writable } from 'node:stream';

const BLOCK = 512;

/** The size field of a tar header (octal, or GNU base-256 when the high bit is set). */
function headerSize(h: Uint8Array): number {
  const f = h.subarray(124, 136);
  if (f[0]! & 0x80) {
    let n = f[0]! & 0x7f;
    for (let i = 1; i < f.length; i++) n = n * 256 + f[i]!;
    return n;
  }
  const s = Buffer.from(f).toString('latin1').replace(/[\0 ]+$/g, '').trim();
  return s === '' ? 0 : parseInt(s, 8) || 0;
}

const isZero = (b: Uint8Array) => b.every((x) => x === 0);

/**
 * Tracks tar framing over a byte stream: `push(chunk)` returns how many bytes of it belong to
 * the archive (all of it until the end-of-archive marker is complete).
 */
export function tarFraming(): { push(chunk: Uint8Array): number; readonly ended: boolean } {
  let skip = 0; // bytes of entry data (and padding) still to pass
  const header = new Uint8Array(BLOCK);
  let have = 0; // bytes of the current header block gathered
  let zeros = 0; // consecutive zero header blocks
  let ended = false;
  return {
    get ended() {
      return ended;
    },
    push(chunk) {
      let i = 0;
      while (i < chunk.length && !ended) {
        if (skip > 0) {
          const n = Math.min(skip, chunk.length - i);
          skip -= n;
          i += n;
          continue;
        }
        const n = Math.min(BLOCK - have, chunk.length - i);
        header.set(chunk.subarray(i, i + n), have);
        have += n;
        i += n;
        if (have < BLOCK) continue;
        have = 0;
        if (isZero(header)) {
          if (++zeros === 2) ended = true;
          continue;
        }
        zeros = 0;
        const size = headerSize(header);
        skip = Math.ceil(size / BLOCK) * BLOCK;
      }
      return i;
    },
  };
}

/** Waits for `w` to take more (or to close), leaving no listener behind. */
function drainOrClose(w: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      w.off('drain', done);
      w.off('close', done);
      resolve();
    };
    w.on('drain', done);
    w.on('close', done);
  });
}

/**
 * Writes `source` into `tar` (an extractor) up to the end-of-archive marker, then ends it.
 * With `rest`, the bytes after the marker are read and handed to it (at native speed, not
 * parsed); without, reading stops there and `source` is destroyed.
 */
export async function feedTar(source: Readable, tar: Writable, rest?: (chunk: Uint8Array) => void): Promise<void> {
  const framing = tarFraming();
  try {
    for await (const chunk of source as AsyncIterable<Uint8Array>) {
      if (tar.destroyed) break; // the extractor failed: its error is the one to report
      if (framing.ended) {
        if (!rest) break;
        rest(chunk);
        continue;
      }
      const n = framing.push(chunk);
      if (n > 0 && !tar.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
        if (tar.destroyed) break;
        await drainOrClose(tar);
      }
      if (n < chunk.length && rest) rest(chunk.subarray(n));
    }
  } finally {
    if ((framing.ended && !rest) || tar.destroyed) source.destroy();
  }
  if (!tar.destroyed) tar.end();
}
