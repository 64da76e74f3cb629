/**
 * Decompression of layer blobs by compression or media type (gzip, zstd, or none): the one
 * place that knows which stream undoes which compression. zstd comes from node:zlib (Bun,
 * Deno and Node 22+ have it).
 */
import { PassThrough, type Readable, type Transform } from 'node:stream';
import * as zlib from 'node:zlib';
import { layerCompression } from './media-types.ts';

export type Compression = 'gzip' | 'zstd' | 'none';

const zstd = zlib as unknown as { createZstdDecompress(): Transform };

/** The stream that undoes `compression`. */
export function decompressor(compression: Compression | undefined): Transform {
  if (compression === 'gzip') return zlib.createGunzip();
  if (compression === 'zstd') return zstd.createZstdDecompress();
  return new PassThrough();
}

/** `stream` (a layer blob of `mediaType`) uncompressed; an error of `stream` ends it too. */
export function decompressLayer(stream: NodeJS.ReadableStream, mediaType: string): Readable {
  const d = decompressor(layerCompression(mediaType));
  (stream as Readable).pipe(d);
  (stream as Readable).on('error', (e) => d.destroy(e));
  return d;
}
