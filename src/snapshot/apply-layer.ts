/**
 * Extracts one layer into an empty directory in overlay format: `.wh.NAME` becomes a
 * whiteout (char device 0:0), `.wh..wh..opq` marks its directory opaque
 * (trusted.overlay.opaque=y). Hardened (apply-entry.ts): names are cleaned, every path is
 * resolved inside the layer directory, hard links point only at regular files of the chain.
 */
import { createReadStream, lstatSync, lutimesSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { feedTar } from '../util/tar-end.ts';
import { tap } from '../util/tap.ts';
import { extract } from 'tar-stream';
import { createDigester, type Digest } from '../util/digest.ts';
import { KilnError } from '../util/errors.ts';
import { decompressLayer } from '../oci/decompress.ts';
import { applyEntry, type EntryHeader, type LayerState } from './apply-entry.ts';

export { cleanEntryName } from './apply-entry.ts';

export { decompressLayer };

export async function applyLayerBlob(blobPath: string, mediaType: string, dir: string, opts: { lowerDirs?: string[] } = {}) {
  return applyLayer(decompressLayer(createReadStream(blobPath), mediaType), dir, opts);
}

/**
 * applyLayerBlob that also returns the digest of the uncompressed tar (the layer's diff id),
 * for callers that must check a layer against what a record says of it.
 */
export async function applyLayerBlobDiffId(blobPath: string, mediaType: string, dir: string, opts: { lowerDirs?: string[] } = {}): Promise<{ entries: number; diffId: Digest }> {
  const digester = createDigester();
  const tar = decompressLayer(createReadStream(blobPath), mediaType);
  const hashed = tar.pipe(tap((chunk) => digester.update(chunk)));
  tar.on('error', (e) => hashed.destroy(e));
  const r = await applyLayer(hashed, dir, opts);
  return { entries: r.entries, diffId: digester.digest() };
}

/**
 * Extracts an uncompressed layer tar into `dir` (empty) as an overlay layer. File system calls
 * are synchronous (one entry is a handful of them: far cheaper than a thread-pool round trip
 * each). Rejects with a KilnError naming the entry for anything a hostile layer can cause.
 */
export async function applyLayer(tar: NodeJS.ReadableStream, dir: string, opts: { lowerDirs?: string[] } = {}): Promise<{ entries: number }> {
  const state: LayerState = { root: dir, lowerDirs: opts.lowerDirs ?? [], dirTimes: [], parents: new Map() };
  let entries = 0;
  const ex = extract();
  const done = (async () => {
    for await (const entry of ex) {
      try {
        await applyEntry(state, entry.header as EntryHeader, entry as unknown as Readable);
        entries++;
      } finally {
        entry.resume();
      }
    }
  })();
  try {
    // Up to the end-of-archive marker; what follows is read (a diff id covers it) but not parsed.
    await Promise.all([feedTar(tar as Readable, ex as unknown as Writable, () => {}), done]);
  } catch (err) {
    if (err instanceof KilnError) throw err;
    // A truncated or garbled stream: gzip, zstd or tar-stream's own words.
    throw new KilnError(`layer is not a valid tar archive: ${(err as Error).message}`, { kind: 'input', cause: err });
  }
  // Directory times last: writing their children changed them. A path that is no longer a
  // directory (a later entry replaced it) is left alone; times never follow a link.
  for (const d of state.dirTimes.reverse()) {
    if (lstatSync(d.path, { throwIfNoEntry: false })?.isDirectory()) lutimesSync(d.path, d.mtime, d.mtime);
  }
  return { entries };
}
