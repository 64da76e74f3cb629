/**
 * SSH wire encoding (RFC 4251 §5): uint32, string, mpint. Shared by key parsing and the
 * agent protocol.
 */

export class WireReader {
  #off = 0;
  constructor(readonly buf: Uint8Array) {}

  get done(): boolean {
    return this.#off >= this.buf.byteLength;
  }

  byte(): number {
    if (this.#off + 1 > this.buf.byteLength) throw new Error('truncated SSH data');
    return this.buf[this.#off++]!;
  }

  uint32(): number {
    if (this.#off + 4 > this.buf.byteLength) throw new Error('truncated SSH data');
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.#off, 4).getUint32(0);
    this.#off += 4;
    return v;
  }

  /** A length-prefixed byte string (also an mpint's raw bytes). */
  string(): Uint8Array {
    const n = this.uint32();
    if (this.#off + n > this.buf.byteLength) throw new Error('truncated SSH data');
    const v = this.buf.subarray(this.#off, this.#off + n);
    this.#off += n;
    return v;
  }

  text(): string {
    return new TextDecoder().decode(this.string());
  }

  /** An mpint as unsigned big-endian bytes without leading zeros. */
  mpint(): Uint8Array {
    let v = this.string();
    while (v.byteLength > 0 && v[0] === 0) v = v.subarray(1);
    return v;
  }

  bytes(n: number): Uint8Array {
    if (this.#off + n > this.buf.byteLength) throw new Error('truncated SSH data');
    const v = this.buf.subarray(this.#off, this.#off + n);
    this.#off += n;
    return v;
  }
}

export function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n);
  return b;
}

export function str(v: Uint8Array | string): Uint8Array {
  const bytes = typeof v === 'string' ? new TextEncoder().encode(v) : v;
  return concat(u32(bytes.byteLength), bytes);
}

/** An mpint from unsigned big-endian bytes: minimal, with a 0 byte when the top bit is set. */
export function mpint(unsigned: Uint8Array): Uint8Array {
  let v = unsigned;
  while (v.byteLength > 0 && v[0] === 0) v = v.subarray(1);
  if (v.byteLength > 0 && v[0]! & 0x80) v = concat(new Uint8Array([0]), v);
  return str(v);
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.byteLength;
  }
  return out;
}
