/**
 * Where an exporter's byte stream goes: a file written under a temp name beside `dest` and
 * renamed onto it when complete, or, for dest '-', a writable such as stdout, which is never ended.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import process from 'node:process';
import { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { tempName } from '../util/fs.ts';
import type { ExportSource } from './types.ts';

/** True when `dest` means standard output. */
export function isStdoutDest(dest: string): boolean {
  return dest === '-';
}

/**
 * Runs `produce` with a writable and makes its bytes the content of `dest`. `produce` may
 * end the writable or leave that to this function. On failure nothing is left at `dest`
 * (an earlier file there stays as it was) and the temp file is removed.
 */
export async function writeOutput(
  dest: string,
  stdout: NodeJS.WritableStream | undefined,
  produce: (out: Writable) => Promise<void>,
  /** Hears of every chunk written (its size): the export's byte progress. */
  onBytes?: (n: number) => void,
): Promise<void> {
  if (isStdoutDest(dest)) {
    const out = counting(forwardTo(stdout ?? process.stdout), onBytes);
    await produce(out);
    if (!out.writableEnded) out.end();
    await finished(out);
    return;
  }
  await mkdir(dirname(dest), { recursive: true });
  const tmp = tempName(dest);
  try {
    const file = createWriteStream(tmp, { mode: 0o644 });
    const out = counting(file, onBytes);
    try {
      await produce(out);
      if (!out.writableEnded) out.end();
      await finished(out);
      if (out !== file) await finished(file);
    } catch (err) {
      // Pending writes fail with ERR_STREAM_DESTROYED; the first error is the one to report.
      out.on('error', () => {});
      out.destroy();
      await finished(out).catch(() => {});
      throw err;
    }
    // No fsync: the file is as durable as `tar -cf > dest` makes it (the page cache writes it
    // back); the rename keeps `dest` whole or as it was should kiln die while writing.
    await rename(tmp, dest);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** writeOutput with the export's byte progress reported through `src.transfer` (`writing KIND DEST`). */
export async function writeExport(src: ExportSource, kind: string, dest: string, stdout: NodeJS.WritableStream | undefined, produce: (out: Writable) => Promise<void>): Promise<void> {
  const t = src.transfer?.(`export ${kind} ${dest}`, `writing ${kind} ${isStdoutDest(dest) ? 'to stdout' : dest}`);
  await writeOutput(dest, stdout, produce, t?.add);
  t?.done();
}

/** `target` itself, or (with `onBytes`) a writable that counts each chunk on its way to `target` and ends it when ended. */
function counting(target: Writable, onBytes?: (n: number) => void): Writable {
  if (!onBytes) return target;
  const out: Writable = new Writable({
    write(chunk: Buffer, _enc, cb) {
      onBytes(chunk.byteLength);
      if (target.write(chunk)) cb();
      else target.once('drain', () => cb());
    },
    final(cb) {
      target.end(() => cb());
    },
    destroy(err, cb) {
      target.destroy(err ?? undefined);
      cb(err);
    },
  });
  target.on('error', (err) => out.destroy(err));
  return out;
}

/** A writable that passes chunks to `target` with its backpressure, and never ends it. */
function forwardTo(target: NodeJS.WritableStream): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      let done = false;
      const onError = (err: Error) => finish(err);
      const finish = (err?: Error | null) => {
        if (done) return;
        done = true;
        target.removeListener('error', onError);
        cb(err);
      };
      target.once('error', onError);
      if (target.write(chunk)) finish();
      else target.once('drain', () => finish());
    },
  });
}
