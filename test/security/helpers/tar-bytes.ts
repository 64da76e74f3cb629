/**
 * Tar archives written byte by byte, for hostile inputs that a well-behaved tar writer would
 * refuse to make: any name or link target, any type flag (devices, GNU sparse 'S', unknown
 * ones), duplicate entries, PAX records (long names, xattrs, sparse maps), sizes that lie.
 */
import { Buffer } from 'node:buffer';

export interface RawEntry {
  name: string;
  /** 'file' (default), 'dir', 'symlink', 'link', 'char', 'block', 'fifo', or a raw type flag character. */
  type?: 'file' | 'dir' | 'symlink' | 'link' | 'char' | 'block' | 'fifo' | string;
  data?: string | Uint8Array;
  linkname?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  /** Seconds since the epoch (default 1,700,000,000). */
  mtime?: number;
  devmajor?: number;
  devminor?: number;
  /** PAX records written in a preceding 'x' header (long names go there by themselves). */
  pax?: Record<string, string>;
  /** The size field, when it must lie about the data that follows. */
  size?: number;
}

const FLAGS: Record<string, string> = { file: '0', link: '1', symlink: '2', char: '3', block: '4', dir: '5', fifo: '6' };

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, '0').slice(-(width - 1)) + '\0';
}

function header(name: string, flag: string, o: { size: number; linkname?: string; mode: number; uid: number; gid: number; mtime: number; devmajor?: number; devminor?: number }): Buffer {
  const b = Buffer.alloc(512);
  b.write(name.slice(0, 100), 0, 'latin1');
  b.write(octal(o.mode, 8), 100, 'latin1');
  b.write(octal(o.uid, 8), 108, 'latin1');
  b.write(octal(o.gid, 8), 116, 'latin1');
  b.write(octal(o.size, 12), 124, 'latin1');
  b.write(octal(o.mtime, 12), 136, 'latin1');
  b.write(flag, 156, 'latin1');
  if (o.linkname) b.write(o.linkname.slice(0, 100), 157, 'latin1');
  b.write('ustar\u000000', 257, 'latin1');
  b.write(octal(o.devmajor ?? 0, 8), 329, 'latin1');
  b.write(octal(o.devminor ?? 0, 8), 337, 'latin1');
  b.fill(' ', 148, 156);
  let sum = 0;
  for (const x of b) sum += x;
  b.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return b;
}

const pad = (n: number) => Buffer.alloc((512 - (n % 512)) % 512);

function paxBody(records: Record<string, string>): Buffer {
  let out = '';
  for (const [k, v] of Object.entries(records)) {
    const rest = ` ${k}=${v}\n`;
    let len = Buffer.byteLength(rest) + 1;
    while (String(len).length + Buffer.byteLength(rest) !== len) len++;
    out += `${len}${rest}`;
  }
  return Buffer.from(out, 'utf8');
}

/** The archive's bytes, with the two zero blocks at the end unless `truncate` (cut after N bytes). */
export function tarBytes(entries: RawEntry[], opts: { truncate?: number } = {}): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const data = typeof e.data === 'string' ? Buffer.from(e.data) : Buffer.from(e.data ?? []);
    const flag = FLAGS[e.type ?? 'file'] ?? e.type!;
    const pax: Record<string, string> = { ...e.pax };
    if (Buffer.byteLength(e.name) > 100) pax.path = e.name;
    if (e.linkname && Buffer.byteLength(e.linkname) > 100) pax.linkpath = e.linkname;
    const meta = { mode: e.mode ?? (e.type === 'dir' ? 0o755 : 0o644), uid: e.uid ?? 0, gid: e.gid ?? 0, mtime: e.mtime ?? 1_700_000_000 };
    if (Object.keys(pax).length) {
      const body = paxBody(pax);
      parts.push(header('PaxHeaders/x', 'x', { ...meta, size: body.length }), body, pad(body.length));
    }
    const size = e.size ?? (flag === '0' || flag === 'S' ? data.length : 0);
    parts.push(header(e.name, flag, { ...meta, size, linkname: e.linkname, devmajor: e.devmajor, devminor: e.devminor }));
    if (data.length) parts.push(data, pad(data.length));
  }
  parts.push(Buffer.alloc(1024));
  const all = Buffer.concat(parts);
  return opts.truncate === undefined ? all : all.subarray(0, opts.truncate);
}
