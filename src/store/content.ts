import { createReadStream, createWriteStream } from 'node:fs';
import { access, mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { tap } from '../util/tap.ts';
import { createDigester, digestHex, sha256, type Digest } from '../util/digest.ts';
import { tempName } from '../util/fs.ts';
import { KilnError } from '../util/errors.ts';

/**
 * The content-addressed blob store (`content/blobs/sha256/<hex>`). A blob appears under
 * its name only once fully written and verified; concurrent writers of the same blob are
 * harmless (the last rename wins with identical bytes).
 */
export interface ContentStore {
  path(d: Digest): string;
  has(d: Digest): Promise<boolean>;
  size(d: Digest): Promise<number>;
  read(d: Digest): Promise<Uint8Array>;
  /** Stores bytes and returns their digest. Idempotent. */
  put(bytes: Uint8Array | string): Promise<{ digest: Digest; size: number }>;
  /** Streams `source` into the store, verifying `expected` when given. */
  putStream(source: NodeJS.ReadableStream, expected?: { digest: Digest; size?: number }): Promise<{ digest: Digest; size: number }>;
  /** Moves an already written file (same file system) into the store under `d`, which the caller verified. */
  adopt(file: string, d: Digest): Promise<void>;
  /** A temp path inside the store's file system, for writers that adopt() afterwards. */
  ingestPath(): string;
}

export function openContentStore(blobsDir: string, ingestDir: string): ContentStore {
  const path = (d: Digest) => join(blobsDir, digestHex(d));
  const ready = Promise.all([mkdir(blobsDir, { recursive: true }), mkdir(ingestDir, { recursive: true })]);
  return {
    path,
    async has(d) {
      try {
        await access(path(d));
        return true;
      } catch {
        return false;
      }
    },
    async size(d) {
      return (await stat(path(d))).size;
    },
    async read(d) {
      const bytes = await readFile(path(d));
      if (sha256(bytes) !== d) throw new KilnError(`content store: blob ${d} is corrupt`, { kind: 'internal', hint: 'run `kiln doctor --store`' });
      return bytes;
    },
    async put(data) {
      await ready;
      const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
      const digest = sha256(bytes);
      const dest = path(digest);
      if (await this.has(digest)) return { digest, size: bytes.byteLength };
      const tmp = join(ingestDir, tempName('blob').split('/').pop()!);
      const { writeFile } = await import('node:fs/promises');
      await writeFile(tmp, bytes);
      await rename(tmp, dest);
      return { digest, size: bytes.byteLength };
    },
    async putStream(source, expected) {
      await ready;
      const tmp = join(ingestDir, tempName('blob').split('/').pop()!);
      const h = createDigester();
      const hashing = tap((chunk) => h.update(chunk));
      try {
        await pipeline(source, hashing, createWriteStream(tmp));
        const digest = h.digest();
        if (expected && (digest !== expected.digest || (expected.size !== undefined && h.size !== expected.size))) {
          throw new KilnError(`blob verification failed: want ${expected.digest} (${expected.size ?? '?'} bytes), got ${digest} (${h.size} bytes)`, { kind: 'input' });
        }
        await rename(tmp, path(digest));
        return { digest, size: h.size };
      } catch (err) {
        await rm(tmp, { force: true });
        throw err;
      }
    },
    async adopt(file, d) {
      await ready;
      await rename(file, path(d));
    },
    ingestPath() {
      return join(ingestDir, tempName('blob').split('/').pop()!);
    },
  };
}

export function openBlobStream(store: ContentStore, d: Digest): NodeJS.ReadableStream {
  return createReadStream(store.path(d));
}
