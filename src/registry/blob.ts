/**
 * Blob downloads: streamed, size- and digest-verified, retried and resumed with `Range`
 * when a connection drops mid-body.
 */
import { Buffer } from 'node:buffer';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Descriptor } from '../oci/types.ts';
import { formatReference, type Reference } from '../oci/reference.ts';
import { createDigester } from '../util/digest.ts';
import { KilnError } from '../util/errors.ts';
import { tempName } from '../util/fs.ts';
import { httpError, networkErrorCode, unreachableError } from './errors.ts';
import { apiHost } from './hosts.ts';
import { isRetryableNetworkError, type Transport } from './transport.ts';

export function blobAction(ref: Reference, desc: Descriptor): string {
  return `failed to fetch blob ${desc.digest} of ${formatReference(ref)}`;
}

function verifyError(ref: Reference, desc: Descriptor, what: string): KilnError {
  return new KilnError(`${blobAction(ref, desc)}: ${what}`, {
    kind: 'runtime',
    hint: 'the registry served corrupted content; try again, and report it to the registry owner if it persists',
  });
}

/** Reads at most `limit` bytes of an error body, as text. */
export async function readErrorText(body: AsyncIterable<unknown> & { destroy(): unknown }, limit = 16_384): Promise<string> {
  const parts: Buffer[] = [];
  let n = 0;
  try {
    for await (const c of body) {
      const b = c as Buffer;
      parts.push(b);
      n += b.length;
      if (n >= limit) break;
    }
  } catch {
    // the text is best effort
  } finally {
    body.destroy();
  }
  return Buffer.concat(parts).subarray(0, limit).toString('utf8');
}

/** `bytes 100-199/200` → 100. */
function rangeStart(contentRange: string | string[] | undefined): number | undefined {
  const v = Array.isArray(contentRange) ? contentRange[0] : contentRange;
  const m = v ? /^bytes\s+(\d+)-/.exec(v) : null;
  return m ? Number(m[1]) : undefined;
}

/**
 * The blob's bytes, in order, exactly once each. Retries (with backoff, `transport.attempts`
 * in all) when the body breaks off, asking for the rest with `Range` (skipping what a server
 * that ignores Range sends again). Throws, after the last chunk and instead of finishing,
 * when the size or sha256 differ from `desc`; never yields more than `desc.size` bytes.
 * Stopping the iteration early closes the connection.
 */
export async function* blobChunks(t: Transport, ref: Reference, desc: Descriptor): AsyncGenerator<Uint8Array, void, undefined> {
  const dg = createDigester();
  let offset = 0;
  let failures = 0;
  const action = blobAction(ref, desc);
  for (;;) {
    const headers: Record<string, string> = { accept: '*/*' };
    if (offset > 0) headers.range = `bytes=${offset}-`;
    const res = await t.send(ref, { method: 'GET', path: `/v2/${ref.path}/blobs/${desc.digest}`, headers });
    let skip = 0;
    if (res.status === 206 && offset > 0) {
      const start = rangeStart(res.headers['content-range']) ?? 0;
      if (start > offset) {
        res.body.destroy();
        throw verifyError(ref, desc, `registry answered a range starting at ${start}, want ${offset}`);
      }
      skip = offset - start;
    } else if (res.status === 200) {
      skip = offset;
    } else {
      throw httpError(action, res.status, await readErrorText(res.body));
    }
    let finished = false;
    try {
      for await (const chunk of res.body) {
        let c = chunk as Buffer;
        if (skip > 0) {
          if (c.length <= skip) {
            skip -= c.length;
            continue;
          }
          c = c.subarray(skip);
          skip = 0;
        }
        if (offset + c.length > desc.size) throw verifyError(ref, desc, `size mismatch: more than the expected ${desc.size} bytes`);
        dg.update(c);
        offset += c.length;
        yield c;
      }
      finished = true;
    } catch (err) {
      if (err instanceof KilnError) throw err;
      if (networkErrorCode(err) === undefined) throw err;
      if (!isRetryableNetworkError(err) || failures + 1 >= t.attempts) throw unreachableError(apiHost(ref.domain), err, action);
      await t.backoff(failures++);
      continue;
    } finally {
      if (!finished) res.body.destroy();
    }
    // A body that ends cleanly is complete as far as the server knows: a short one is a wrong blob.
    break;
  }
  if (offset !== desc.size) throw verifyError(ref, desc, `size mismatch: got ${offset} bytes, want ${desc.size}`);
  const got = dg.digest();
  if (got !== desc.digest) throw verifyError(ref, desc, `digest mismatch: got ${got}`);
}

/** A web ReadableStream that is also async-iterable (true on Bun, Deno and Node; TS's DOM lib omits it). */
export type BlobStream = ReadableStream<Uint8Array> & AsyncIterable<Uint8Array>;

/**
 * The blob as a web ReadableStream (async-iterable in Bun, Deno and Node). It errors instead
 * of closing when the content does not match `desc`: a consumer must treat an errored stream
 * as a failed download. Cancelling the stream closes the connection.
 */
export function blobStream(t: Transport, ref: Reference, desc: Descriptor): BlobStream {
  const it = blobChunks(t, ref, desc);
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const r = await it.next();
        if (r.done) controller.close();
        else controller.enqueue(r.value);
      } catch (err) {
        controller.error(err);
      }
    },
    async cancel() {
      await it.return(undefined);
    },
  });
  return stream as BlobStream;
}

/** The whole blob in memory, verified; refuses descriptors larger than `maxSize`. */
export async function blobBytes(t: Transport, ref: Reference, desc: Descriptor, maxSize: number): Promise<Uint8Array> {
  if (desc.size > maxSize) throw verifyError(ref, desc, `too large: ${desc.size} bytes (limit ${maxSize})`);
  const parts: Uint8Array[] = [];
  for await (const c of blobChunks(t, ref, desc)) parts.push(c);
  return Buffer.concat(parts);
}

/**
 * Downloads the blob to `path`: written to a temp name beside it, fsynced, verified, then
 * renamed into place (replacing any file there). On any failure the temp file is removed and
 * nothing is left at `path`. Concurrent calls for the same path are safe (last rename wins,
 * with identical content).
 */
export async function blobToFile(t: Transport, ref: Reference, desc: Descriptor, path: string, onBytes?: (n: number) => void): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = tempName(path);
  const fh = await open(tmp, 'w', 0o644);
  let closed = false;
  try {
    for await (const c of blobChunks(t, ref, desc)) {
      for (let off = 0; off < c.byteLength; ) {
        const { bytesWritten } = await fh.write(c, off, c.byteLength - off);
        off += bytesWritten;
      }
      onBytes?.(c.byteLength);
    }
    await fh.sync();
    await fh.close();
    closed = true;
    await rename(tmp, path);
  } catch (err) {
    if (!closed) await fh.close().catch(() => {});
    await rm(tmp, { force: true });
    throw err;
  }
}
