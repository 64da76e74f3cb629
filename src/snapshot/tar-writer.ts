/**
 * A tar writer that builds the archive straight into big buffers: headers encoded in place,
 * file bodies read from their descriptors into the same buffer, handed on in whole chunks.
 * A stream per entry (tar-stream's pack) costs more per file than reading the file does.
 *
 * The bytes are tar-stream 3's, exactly (test/snapshot/tar-writer.test.ts holds it to that),
 * so layers packed before and after it keep their digests: ustar headers (name split into
 * prefix/name at '/', octal fields padded with '0' and ended by a space, all-7s when a value
 * does not fit, sizes past 8 GiB in base-256), and, where ustar cannot say it (a non-ASCII or
 * too long name, a long link target, extended attributes), a pax record block named
 * `PaxHeader` followed by a header of that same name.
 */
import { readSync } from 'node:fs';

export type TarType = 'file' | 'link' | 'symlink' | 'character-device' | 'block-device' | 'directory' | 'fifo';

export interface TarHeader {
  name: string;
  type: TarType;
  /** Permission bits (only & 0o7777 is written). */
  mode: number;
  uid: number;
  gid: number;
  /** Bytes of the body (files only; 0 for every other type). */
  size: number;
  mtime: Date;
  linkname?: string;
  uname?: string;
  gname?: string;
  devmajor?: number;
  devminor?: number;
  /** pax records (e.g. SCHILY.xattr.*), in order; non-empty forces the pax form. */
  pax?: Record<string, string>;
}

const TYPEFLAG: Record<TarType | 'pax-header', number> = {
  file: 0,
  link: 1,
  symlink: 2,
  'character-device': 3,
  'block-device': 4,
  directory: 5,
  fifo: 6,
  'pax-header': 72,
};
const ZEROS = '0000000000000000000';
const SEVENS = '7777777777777777777';
const CHUNK = 1 << 20;

function octal(val: number, n: number): string {
  const s = val.toString(8);
  return s.length > n ? `${SEVENS.slice(0, n)} ` : `${ZEROS.slice(0, n - s.length)}${s} `;
}

const isAscii = (s: string) => !/[^\x00-\x7f]/.test(s);

/**
 * One 512-byte ustar header at `buf[off]`, or false when ustar cannot hold the name or link
 * target (the caller then writes the pax form).
 */
function encodeUstar(h: Omit<TarHeader, 'type' | 'pax'> & { type: TarType | 'pax-header' }, buf: Buffer, off: number): boolean {
  let name = h.name;
  let prefix = '';
  if (!isAscii(name)) return false;
  while (name.length > 100) {
    const i = name.indexOf('/');
    if (i === -1) return false;
    prefix += prefix ? `/${name.slice(0, i)}` : name.slice(0, i);
    name = name.slice(i + 1);
  }
  if (name.length > 100 || prefix.length > 155) return false;
  if (h.linkname && Buffer.byteLength(h.linkname) > 100) return false;
  buf.fill(0, off, off + 512);
  buf.write(name, off, 'latin1');
  buf.write(octal(h.mode & 0o7777, 6), off + 100, 'latin1');
  buf.write(octal(h.uid, 6), off + 108, 'latin1');
  buf.write(octal(h.gid, 6), off + 116, 'latin1');
  if (h.size.toString(8).length > 11) {
    // base-256: a marker byte, then the size big-endian in 11 bytes
    buf[off + 124] = 0x80;
    let n = h.size;
    for (let i = 11; i > 0; i--) {
      buf[off + 124 + i] = n & 0xff;
      n = Math.floor(n / 0x100);
    }
  } else buf.write(octal(h.size, 11), off + 124, 'latin1');
  buf.write(octal((h.mtime.getTime() / 1000) | 0, 11), off + 136, 'latin1');
  buf[off + 156] = 48 + TYPEFLAG[h.type];
  if (h.linkname) buf.write(h.linkname, off + 157, 'utf8');
  buf.write('ustar\x0000', off + 257, 'latin1');
  // Written like tar-stream: to the end of the block, not only the 32-byte field.
  if (h.uname) buf.write(h.uname, off + 265, off + 512 - (off + 265), 'utf8');
  if (h.gname) buf.write(h.gname, off + 297, off + 512 - (off + 297), 'utf8');
  buf.write(octal(h.devmajor || 0, 6), off + 329, 'latin1');
  buf.write(octal(h.devminor || 0, 6), off + 337, 'latin1');
  if (prefix) buf.write(prefix, off + 345, 'latin1');
  let sum = 8 * 32;
  for (let i = off; i < off + 148; i++) sum += buf[i]!;
  for (let i = off + 156; i < off + 512; i++) sum += buf[i]!;
  buf.write(octal(sum, 6), off + 148, 'latin1');
  return true;
}

/** A pax record: its own decimal length, a space, `key=value`, a newline. */
function paxRecord(kv: string): string {
  const body = ` ${kv}\n`;
  const len = Buffer.byteLength(body);
  let digits = Math.floor(Math.log(len) / Math.log(10)) + 1;
  if (len + digits >= Math.pow(10, digits)) digits++;
  return `${len + digits}${body}`;
}

function paxData(h: TarHeader): Buffer {
  let s = paxRecord(`path=${h.name}`);
  if (h.linkname) s += paxRecord(`linkpath=${h.linkname}`);
  for (const [k, v] of Object.entries(h.pax ?? {})) s += paxRecord(`${k}=${v}`);
  return Buffer.from(s);
}

const pad = (n: number) => (512 - (n & 511)) & 511;

/** The header block of an entry: ustar alone, or a pax block, its records and a ustar header named `PaxHeader`. */
function headerBlocks(e: TarHeader): Buffer {
  const pax = e.pax && Object.keys(e.pax).length ? true : false;
  if (!pax) {
    const block = Buffer.allocUnsafe(512);
    if (encodeUstar(e, block, 0)) return block;
  }
  const records = paxData(e);
  const named = { ...e, name: 'PaxHeader', linkname: e.linkname ? 'PaxHeader' : e.linkname };
  const out = Buffer.alloc(512 + records.length + pad(records.length) + 512);
  encodeUstar({ ...named, type: 'pax-header', size: records.length }, out, 0);
  records.copy(out, 512);
  encodeUstar(named, out, 512 + records.length + pad(records.length));
  return out;
}

/**
 * Writes entries to `sink` in chunks of about 1 MiB (a chunk is never touched again once
 * handed on). `sink` resolves when it can take more (backpressure).
 */
export class TarWriter {
  private buf = Buffer.allocUnsafe(CHUNK);
  private pos = 0;
  private readonly sink: (chunk: Buffer) => Promise<void> | void;

  constructor(sink: (chunk: Buffer) => Promise<void> | void) {
    this.sink = sink;
  }

  /**
   * One entry. A file's body is `source`: bytes, or a descriptor read from offset 0 for
   * `h.size` bytes (as lstat gave them; rejects when the file is shorter: it changed while
   * read). Without a source an entry has no body (size 0).
   */
  async add(h: TarHeader, source?: number | Uint8Array): Promise<void> {
    const body = source instanceof Uint8Array ? source : undefined;
    const fd = typeof source === 'number' ? source : undefined;
    const size = h.type !== 'file' || source === undefined ? 0 : body ? body.byteLength : h.size;
    const head = headerBlocks({ ...h, size });
    if (fd === undefined || head.length + size + pad(size) <= CHUNK) {
      await this.reserve(head.length + size + pad(size));
      this.put(head);
      if (body) this.put(body);
      else if (fd !== undefined) this.readInto(fd, 0, size);
      this.zeros(pad(size));
      return;
    }
    // A big body: the headers, then the file read chunk by chunk straight into the buffers.
    await this.reserve(head.length);
    this.put(head);
    for (let done = 0; done < size; ) {
      if (this.pos === this.buf.length) await this.flush();
      const n = Math.min(size - done, this.buf.length - this.pos);
      this.readInto(fd, done, n);
      done += n;
    }
    await this.reserve(pad(size));
    this.zeros(pad(size));
  }

  /** The end-of-archive marker (two zero blocks), and the last chunk handed on. */
  async finish(): Promise<void> {
    await this.reserve(1024);
    this.zeros(1024);
    await this.flush();
  }

  private put(bytes: Uint8Array): void {
    this.buf.set(bytes, this.pos);
    this.pos += bytes.byteLength;
  }

  private zeros(n: number): void {
    this.buf.fill(0, this.pos, this.pos + n);
    this.pos += n;
  }

  private readInto(fd: number, offset: number, n: number): void {
    let got = 0;
    while (got < n) {
      const r = readSync(fd, this.buf, this.pos + got, n - got, offset + got);
      if (r === 0) throw new Error('file changed as it was read (shorter than its size)');
      got += r;
    }
    this.pos += n;
  }

  /** Room for `n` contiguous bytes: the current chunk handed on first if they do not fit. */
  private async reserve(n: number): Promise<void> {
    if (this.buf.length - this.pos >= n) return;
    await this.flush();
    if (n > this.buf.length) this.buf = Buffer.allocUnsafe(n);
  }

  private async flush(): Promise<void> {
    if (this.pos === 0) return;
    const chunk = this.buf.subarray(0, this.pos);
    this.buf = Buffer.allocUnsafe(CHUNK);
    this.pos = 0;
    await this.sink(chunk);
  }
}
