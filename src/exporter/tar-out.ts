/**
 * Writing tar archives with tar-stream, streaming: blobs are copied from their files in
 * chunks (and verified against their digest and size on the way), never held in memory.
 */
import { createReadStream } from 'node:fs';
import { Buffer } from 'node:buffer';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { pack as tarPack, type Pack } from 'tar-stream';
import { createDigester, type Digest } from '../util/digest.ts';
import { KilnError } from '../util/errors.ts';

export type { Pack };

/** Fixed header fields, so that the same content always gives the same archive bytes. */
const FIXED = { uid: 0, gid: 0, uname: '', gname: '', mtime: new Date(0) } as const;

/**
 * Builds a tar with `fill` and streams it into `out` (which is not ended). Rejects, with
 * the archive left incomplete, when `fill` or the destination fails.
 */
export async function streamTar(out: Writable, fill: (pack: Pack) => Promise<void>): Promise<void> {
  const pack = tarPack();
  let outErr: Error | undefined;
  const onOutError = (err: Error) => {
    outErr ??= err;
    pack.destroy(err);
  };
  out.on('error', onOutError);
  const pump = (async () => {
    for await (const chunk of pack as AsyncIterable<Buffer>) {
      if (!out.write(chunk)) await waitDrain(out);
    }
  })();
  // Keep an early pump failure from being unhandled while fill runs.
  pump.catch(() => {});
  try {
    try {
      await fill(pack);
      pack.finalize();
    } catch (err) {
      pack.destroy(err as Error);
      await pump.catch(() => {});
      throw outErr ?? err;
    }
    await pump.catch((err: unknown) => {
      throw outErr ?? err;
    });
  } finally {
    out.removeListener('error', onOutError);
  }
}

async function waitDrain(out: Writable): Promise<void> {
  if (out.destroyed) throw out.errored ?? new Error('output closed');
  await once(out, 'drain');
}

/** Adds a regular file entry with `bytes` as content. */
export async function addBytes(pack: Pack, name: string, bytes: Uint8Array, mode: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    pack.entry({ ...FIXED, name, mode, type: 'file', size: bytes.byteLength }, Buffer.from(bytes), (err) => (err ? reject(err) : resolve()));
  });
}

/** Adds a directory entry. */
export async function addDir(pack: Pack, name: string, mode: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    pack.entry({ ...FIXED, name, mode, type: 'directory' }, (err) => (err ? reject(err) : resolve()));
  });
}

export interface BlobFile {
  path: string;
  digest: Digest;
  size: number;
}

/**
 * Adds a regular file entry streamed from `blob.path`. Throws a KilnError when the file's
 * bytes do not hash to `blob.digest` or their count is not `blob.size`.
 */
export async function addBlob(pack: Pack, name: string, blob: BlobFile, mode: number): Promise<void> {
  let settle: (err?: Error | null) => void = () => {};
  const written = new Promise<void>((resolve, reject) => {
    settle = (err) => (err ? reject(err) : resolve());
  });
  const entry = pack.entry({ ...FIXED, name, mode, type: 'file', size: blob.size }, (err) => settle(err));
  // On failure the caller destroys the whole pack, which may also error this entry.
  entry.on('error', () => {});
  written.catch(() => {});
  await writeVerified(entry, blob);
  await written;
}

async function writeVerified(entry: ReturnType<Pack['entry']>, blob: BlobFile): Promise<void> {
  const d = createDigester();
  for await (const chunk of createReadStream(blob.path) as AsyncIterable<Buffer>) {
    d.update(chunk);
    if (d.size > blob.size) throw blobMismatch(blob, `more than ${blob.size} bytes`);
    if (!entry.write(chunk)) await once(entry as unknown as NodeJS.EventEmitter, 'drain');
  }
  if (d.size !== blob.size) throw blobMismatch(blob, `${d.size} bytes, want ${blob.size}`);
  const got = d.digest();
  if (got !== blob.digest) throw blobMismatch(blob, `digest ${got}`);
  entry.end(undefined); // streamx types want an argument; undefined writes nothing
}

function blobMismatch(blob: BlobFile, what: string): KilnError {
  return new KilnError(`blob ${blob.digest} at ${blob.path} is corrupt: ${what}`, {
    kind: 'runtime',
    hint: 'the content store holds a damaged blob; remove it and build again',
  });
}
