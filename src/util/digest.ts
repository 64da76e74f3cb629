import { createHash, type Hash } from 'node:crypto';

/** An OCI content digest: `sha256:<64 hex>`. */
export type Digest = `sha256:${string}`;

const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

export function isDigest(s: string): s is Digest {
  return DIGEST_RE.test(s);
}

/** Throws when `s` is not a well-formed sha256 digest. */
export function parseDigest(s: string): Digest {
  if (!isDigest(s)) throw new Error(`invalid digest ${JSON.stringify(s)}: want sha256:<64 hex digits>`);
  return s;
}

export function sha256(data: string | Uint8Array): Digest {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** The hex part of a digest (what goes into blob paths). */
export function digestHex(d: Digest): string {
  return d.slice('sha256:'.length);
}

/** An incremental sha256 that also counts bytes. */
export interface DigestCounter {
  update(chunk: Uint8Array): void;
  readonly size: number;
  digest(): Digest;
}

export function createDigester(): DigestCounter {
  const h: Hash = createHash('sha256');
  let size = 0;
  return {
    update(chunk) {
      h.update(chunk);
      size += chunk.byteLength;
    },
    get size() {
      return size;
    },
    digest: () => `sha256:${h.digest('hex')}`,
  };
}
