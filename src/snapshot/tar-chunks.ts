/**
 * Cuts a tar stream into chunks for parallel, incremental compression. Where a chunk ends
 * depends only on the bytes, never on how they arrive or on timing, and the cuts come back
 * to the same places after an edit (content-defined at entry starts):
 * - at the start of an entry (never between an extended header and its entry) whose header
 *   block hashes to 0 mod ENTRY_DIVISOR, once the chunk has MIN_CHUNK bytes; at any entry
 *   start once it has TARGET_CHUNK bytes;
 * - inside a file's data, every TARGET_CHUNK bytes from the start of that data.
 * No chunk is longer than MAX_CHUNK: where no cut comes (after the end-of-archive marker, inside
 * an extended header whose size field says a terabyte), one is made every MAX_CHUNK bytes. Size
 * fields are not trusted: in-data cuts are made as the bytes arrive, never listed ahead.
 */
export const TARGET_CHUNK = 1 << 20;
export const MAX_CHUNK = 4 * TARGET_CHUNK;
const MIN_CHUNK = TARGET_CHUNK / 4;
const ENTRY_DIVISOR = 64;

const BLOCK = 512;
/** Header types whose entry is the next header (pax, GNU long names). */
const EXTENDED = new Set(['x', 'g', 'L', 'K']);

/** FNV-1a of a header block: the content-defined choice of where to cut. */
function headerHash(h: Buffer): number {
  let x = 0x811c9dc5;
  for (let i = 0; i < BLOCK; i++) x = Math.imul(x ^ h[i]!, 0x01000193);
  return x >>> 0;
}

/** The size field of a header (octal, or base-256 when its high bit is set). */
function entrySize(h: Buffer): number {
  if (h[124]! & 0x80) {
    let n = 0;
    for (let i = 125; i < 136; i++) n = n * 256 + h[i]!;
    return n;
  }
  const s = h.toString('latin1', 124, 136).replace(/\0.*$/, '').trim();
  return s ? parseInt(s, 8) || 0 : 0;
}

export class TarChunker {
  private pieces: Buffer[] = [];
  /** Absolute offsets: where the current chunk starts, where the received bytes end. */
  private start = 0;
  private end = 0;
  /** The next header to read; the next in-data cut candidate before it (Infinity: none). */
  private nextHeader = 0;
  private dataCut = Infinity;
  private afterExtended = false;
  private ended = false;
  private checkedEntryStart = -1;

  /** Adds bytes; returns the chunks they complete, in order. */
  push(data: Buffer): Buffer[] {
    if (data.byteLength === 0) return [];
    this.pieces.push(data);
    this.end += data.byteLength;
    const out: Buffer[] = [];
    for (;;) {
      while (this.dataCut <= this.end) {
        const c = this.dataCut;
        this.dataCut = c + TARGET_CHUNK < this.nextHeader ? c + TARGET_CHUNK : Infinity;
        if (c - this.start >= TARGET_CHUNK) out.push(this.cut(c));
      }
      if (this.dataCut !== Infinity || this.ended || this.nextHeader + BLOCK > this.end) break;
      const h = this.read(this.nextHeader, BLOCK);
      const at = this.nextHeader;
      if (h.every((b) => b === 0)) {
        this.ended = true;
        break;
      }
      if (!this.afterExtended && this.checkedEntryStart !== at) {
        this.checkedEntryStart = at;
        const len = at - this.start;
        if (len >= TARGET_CHUNK || (len >= MIN_CHUNK && headerHash(h) % ENTRY_DIVISOR === 0)) out.push(this.cut(at));
      }
      const type = String.fromCharCode(h[156]!);
      const size = entrySize(h);
      const dataStart = at + BLOCK;
      const dataEnd = dataStart + Math.ceil(size / BLOCK) * BLOCK;
      this.afterExtended = EXTENDED.has(type);
      if (!this.afterExtended && dataStart + TARGET_CHUNK < dataEnd) this.dataCut = dataStart + TARGET_CHUNK;
      this.nextHeader = dataEnd;
    }
    // No cut in sight (trailing bytes, a lying size): bounded anyway, never before the header still to read.
    while (this.end - this.start >= MAX_CHUNK && (this.ended || this.nextHeader >= this.start + MAX_CHUNK)) out.push(this.cut(this.start + MAX_CHUNK));
    return out;
  }

  /** The last chunk (possibly empty). */
  flush(): Buffer {
    const rest = Buffer.concat(this.pieces);
    this.pieces = [];
    this.start = this.end;
    return rest;
  }

  /** `n` bytes at absolute offset `at` (within the current chunk's bytes). */
  private read(at: number, n: number): Buffer {
    let off = at - this.start;
    const parts: Buffer[] = [];
    for (const p of this.pieces) {
      if (off >= p.byteLength) {
        off -= p.byteLength;
        continue;
      }
      const take = p.subarray(off, off + n);
      parts.push(take);
      n -= take.byteLength;
      off = 0;
      if (n === 0) break;
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }

  /** Ends the current chunk at absolute offset `at`. */
  private cut(at: number): Buffer {
    let n = at - this.start;
    const taken: Buffer[] = [];
    while (n > 0) {
      const p = this.pieces[0]!;
      if (p.byteLength <= n) {
        taken.push(p);
        this.pieces.shift();
        n -= p.byteLength;
      } else {
        taken.push(p.subarray(0, n));
        this.pieces[0] = p.subarray(n);
        n = 0;
      }
    }
    this.start = at;
    return Buffer.concat(taken);
  }
}
