/**
 * gzip on several cores: the input is cut into fixed-size blocks, each compressed as its own
 * gzip member by zlib's asynchronous API (which runs on the runtime's thread pool), and the
 * members are written in order. A series of members is one valid gzip stream (RFC 1952 §2.2;
 * Go's gzip reader, used by docker, containerd and skopeo, reads it, as does GNU gzip), and
 * the bytes depend only on the input, the block size and the level: deterministic.
 */
import { availableParallelism } from 'node:os';
import { Transform, type TransformCallback } from 'node:stream';
import * as zlib from 'node:zlib';

export const GZIP_BLOCK = 1 << 20;

function gzipBlock(data: Buffer, level: number): Promise<Buffer> {
  return new Promise((resolve, reject) => zlib.gzip(data, { level }, (err, out) => (err ? reject(err) : resolve(out))));
}

/** A promise whose failure is reported where it is awaited, never as an unhandled rejection before. */
function started<T>(p: Promise<T>): Promise<T> {
  p.catch(() => {});
  return p;
}

export function createParallelGzip(opts: { level?: number; blockSize?: number; concurrency?: number } = {}): Transform {
  const level = opts.level ?? zlib.constants.Z_DEFAULT_COMPRESSION;
  const blockSize = opts.blockSize ?? GZIP_BLOCK;
  const concurrency = Math.max(1, opts.concurrency ?? availableParallelism());
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let any = false;
  const inFlight: Promise<Buffer>[] = [];

  return new Transform({
    async transform(this: Transform, chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
      try {
        any = true;
        pending.push(chunk);
        pendingBytes += chunk.byteLength;
        while (pendingBytes >= blockSize) {
          const all = Buffer.concat(pending, pendingBytes);
          inFlight.push(started(gzipBlock(all.subarray(0, blockSize), level)));
          // A copy of the rest: a view would keep the whole concatenated buffer alive.
          const rest = Buffer.from(all.subarray(blockSize));
          pending = rest.byteLength ? [rest] : [];
          pendingBytes = rest.byteLength;
          // Backpressure: at most `concurrency` blocks compress at once; the oldest is written first.
          while (inFlight.length >= concurrency) this.push(await inFlight.shift()!);
        }
        cb();
      } catch (err) {
        cb(err as Error);
      }
    },
    async flush(this: Transform, cb: TransformCallback) {
      try {
        if (pendingBytes > 0 || !any) inFlight.push(started(gzipBlock(Buffer.concat(pending, pendingBytes), level)));
        while (inFlight.length) this.push(await inFlight.shift()!);
        cb();
      } catch (err) {
        cb(err as Error);
      }
    },
  });
}
