/**
 * Layer compression on every core, deterministic and incremental. The tar is cut into chunks
 * (tar-chunks.ts: at entry boundaries, content-defined) and each chunk is compressed as its
 * own gzip member (RFC 1952 §2.2: a series of members is one gzip stream; Go's reader, used by
 * docker, containerd and skopeo, and GNU gzip read it) or zstd frame (a series of frames is
 * one zstd stream), by zlib's asynchronous API on the runtime's thread pool, written in order.
 * The bytes depend only on the input, the compression and its level: never on the number of
 * cores or on timing.
 *
 * Incremental: `reuse` maps the sha256 of a chunk's bytes to a member of an earlier blob with
 * the same compression and level; such a chunk is copied from there byte for byte instead of
 * compressed again. `members()` lists the members written, for the next time.
 */
import { availableParallelism } from 'node:os';
import { createHash } from 'node:crypto';
import { openSync, readSync, closeSync } from 'node:fs';
import { Transform, type TransformCallback } from 'node:stream';
import * as zlib from 'node:zlib';
import { TarChunker } from './tar-chunks.ts';

export interface Member {
  /** sha256 (hex) of the chunk's uncompressed bytes. */
  sha: string;
  /** Where the member is in its blob, and its compressed length. */
  offset: number;
  length: number;
}

/** A member of an earlier blob, at `path`. */
export interface ReusableMember {
  path: string;
  offset: number;
  length: number;
}

export interface ChunkedCompressor extends Transform {
  /** The members written (complete once the stream has finished). */
  members(): Member[];
  /** How many chunks were copied from earlier blobs. */
  reused(): number;
}

type Zstd = { zstdCompress(b: Buffer, o: object, cb: (e: Error | null, r: Buffer) => void): void; constants: Record<string, number> };

function compressChunk(data: Buffer, compression: 'gzip' | 'zstd', level: number | undefined): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, out: Buffer) => (err ? reject(err) : resolve(out));
    if (compression === 'gzip') zlib.gzip(data, { level: level ?? zlib.constants.Z_DEFAULT_COMPRESSION }, done);
    else {
      const z = zlib as unknown as Zstd;
      z.zstdCompress(data, level !== undefined ? { params: { [z.constants.ZSTD_c_compressionLevel!]: level } } : {}, done);
    }
  });
}

function readMember(m: ReusableMember): Buffer | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(m.path, 'r');
    const b = Buffer.allocUnsafe(m.length);
    return readSync(fd, b, 0, m.length, m.offset) === m.length ? b : undefined;
  } catch {
    return undefined; // the earlier blob is gone (GC): compress instead
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** A promise whose failure is reported where it is awaited, never as an unhandled rejection before. */
function started<T>(p: Promise<T>): Promise<T> {
  p.catch(() => {});
  return p;
}

export function createChunkedCompressor(opts: {
  compression: 'gzip' | 'zstd';
  level?: number;
  concurrency?: number;
  reuse?: Map<string, ReusableMember>;
}): ChunkedCompressor {
  const concurrency = Math.max(1, opts.concurrency ?? availableParallelism());
  const chunker = new TarChunker();
  const inFlight: Promise<{ sha: string; bytes: Buffer }>[] = [];
  const members: Member[] = [];
  let offset = 0;
  let reused = 0;
  let any = false;

  const start = (chunk: Buffer) => {
    const sha = createHash('sha256').update(chunk).digest('hex');
    const earlier = opts.reuse?.get(sha);
    const copy = earlier && readMember(earlier);
    if (copy) {
      reused++;
      inFlight.push(Promise.resolve({ sha, bytes: copy }));
    } else inFlight.push(started(compressChunk(chunk, opts.compression, opts.level).then((bytes) => ({ sha, bytes }))));
  };
  const write = async (t: Transform) => {
    const { sha, bytes } = await inFlight.shift()!;
    members.push({ sha, offset, length: bytes.byteLength });
    offset += bytes.byteLength;
    t.push(bytes);
  };

  const t = new Transform({
    async transform(this: Transform, chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
      try {
        any = true;
        for (const c of chunker.push(chunk)) {
          start(c);
          // Backpressure: at most `concurrency` chunks compress at once; the oldest is written first.
          while (inFlight.length >= concurrency) await write(this);
        }
        cb();
      } catch (err) {
        cb(err as Error);
      }
    },
    async flush(this: Transform, cb: TransformCallback) {
      try {
        const rest = chunker.flush();
        if (rest.byteLength > 0 || !any) start(rest);
        while (inFlight.length) await write(this);
        cb();
      } catch (err) {
        cb(err as Error);
      }
    },
  }) as ChunkedCompressor;
  t.members = () => members;
  t.reused = () => reused;
  return t;
}
