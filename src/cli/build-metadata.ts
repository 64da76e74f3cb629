import type { ImageBlobs } from '../exporter/index.ts';
import type { BuildOutcome } from './build.ts';

/**
 * `--metadata-file`: what BuildKit (buildx) writes there, by its keys. The image keys come from
 * the first image-producing output; without one, the config digest of the default image. A
 * multi-platform image is its index: no single config digest.
 */
export function buildMetadata(outcome: BuildOutcome, main: ImageBlobs, names: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const img = outcome.exports.find((e) => e.manifestDigest);
  const multi = !!img && !img.configDigest;
  if (!multi) out['containerimage.config.digest'] = img?.configDigest ?? main.config.descriptor.digest;
  if (img?.manifestDigest) {
    out['containerimage.digest'] = img.manifestDigest;
    if (img.descriptor) out['containerimage.descriptor'] = img.descriptor;
  }
  const all = [...new Set([...(img?.names ?? []), ...names])];
  if (all.length) out['image.name'] = all.join(',');
  return out;
}
