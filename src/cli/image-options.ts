/**
 * The image attributes of an output (`-o type=image|registry|oci|docker,...`), with BuildKit's
 * names: compression, compression-level, force-compression, oci-mediatypes, annotation.*,
 * rewrite-timestamp, source-date-epoch. Unknown keys are refused, naming the known ones.
 */
import { usageError } from '../util/errors.ts';
import { unknownAttribute } from './unknown-option.ts';
import type { OutputSpec } from './request.ts';

export interface ImageOptions {
  compression: 'gzip' | 'zstd' | 'none';
  /** Compression level (gzip 0-9, zstd 1-22); undefined: the library's default. */
  level?: number;
  /** Recompress layers whose blob has another compression (base-image layers included). */
  force: boolean;
  ociMediaTypes: boolean;
  /** Manifest annotations (`annotation.K` and `annotation-manifest.K`). */
  annotations: Record<string, string>;
  /** Index annotations (`annotation-index.K`; oci and docker layouts). */
  indexAnnotations: Record<string, string>;
  /** SOURCE_DATE_EPOCH in seconds: config and history `created`. */
  epoch?: number;
  /** Clamp file times in the layers this build made to `epoch` (new blobs). */
  rewriteTimestamp: boolean;
  /**
   * No layer blob is wanted: the image stays in the local store and nothing asked for a
   * compression, or the output is a root file system (tar, local), which needs the image only
   * for its config (the provenance subject): the layers the build made are kept uncompressed,
   * as their snapshots (result-image.ts LayerOptions.keep), measured but never compressed.
   */
  keep: boolean;
}

/** Keys each output type accepts (BuildKit's; some only accepted, e.g. `unpack` for containerd). */
const COMMON_IMAGE = ['compression', 'compression-level', 'force-compression', 'oci-mediatypes', 'rewrite-timestamp', 'source-date-epoch', 'buildinfo', 'buildinfo-attrs', 'attestation-inline'];
export const OUTPUT_KEYS: Record<string, string[]> = {
  image: ['name', 'push', 'push-by-digest', 'insecure', 'unpack', 'store', 'dangling-name-prefix', 'name-canonical', 'registry.insecure', ...COMMON_IMAGE],
  registry: ['name', 'push', 'push-by-digest', 'insecure', 'registry.insecure', 'name-canonical', ...COMMON_IMAGE],
  oci: ['dest', 'tar', 'name', ...COMMON_IMAGE],
  docker: ['dest', 'tar', 'name', 'context', ...COMMON_IMAGE],
  tar: ['dest', 'platform-split'],
  local: ['dest', 'platform-split'],
  cacheonly: [],
};

/** How messages name the spec: `output type=oci`, or the spec's own label (a cache export's). */
const labelOf = (spec: OutputSpec) => spec.label ?? `output type=${spec.type}`;

const isAnnotation = (k: string) => /^annotation(-manifest|-index|-manifest-descriptor|-index-descriptor)?(\[[^\]]*\])?\./.test(k);

/** Refuses keys the output type does not know. */
export function checkOutputKeys(spec: OutputSpec): void {
  const known = OUTPUT_KEYS[spec.type];
  if (!known) return;
  for (const k of Object.keys(spec.attrs)) {
    if (known.includes(k) || (spec.type !== 'tar' && spec.type !== 'local' && spec.type !== 'cacheonly' && isAnnotation(k))) continue;
    throw unknownAttribute(labelOf(spec), k, known, `type=${spec.type} takes no attributes`);
  }
}

/** A boolean attribute (`K`, `K=true|1`, `K=false|0`). */
export const boolAttr = (spec: OutputSpec, key: string, def: boolean): boolean => {
  const v = spec.attrs[key];
  if (v === undefined) return def;
  if (v === '' || v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw usageError(`${labelOf(spec)}: ${key} must be true or false, not "${v}"`);
};

/** The image options of `spec`; `epoch` is the build's SOURCE_DATE_EPOCH (build arg or env). */
export function imageOptions(spec: OutputSpec, epoch?: string): ImageOptions {
  const a = spec.attrs;
  const comp = a.compression ?? 'gzip';
  if (!['gzip', 'zstd', 'uncompressed', 'estargz'].includes(comp)) throw usageError(`${labelOf(spec)}: unknown compression "${comp}"`, 'use gzip, zstd or uncompressed');
  if (comp === 'estargz') throw usageError(`${labelOf(spec)}: compression=estargz is not supported`, 'use gzip, zstd or uncompressed');
  let level: number | undefined;
  if (a['compression-level'] !== undefined) {
    level = Number(a['compression-level']);
    const max = comp === 'zstd' ? 22 : 9;
    if (!Number.isInteger(level) || level < 0 || level > max) throw usageError(`${labelOf(spec)}: compression-level must be an integer 0-${max} for ${comp}`);
  }
  const annotations: Record<string, string> = {};
  const indexAnnotations: Record<string, string> = {};
  for (const [k, v] of Object.entries(a)) {
    const m = /^annotation(-manifest|-index)?\.(.+)$/.exec(k);
    if (!m) continue;
    if (m[1] === '-index') indexAnnotations[m[2]!] = v;
    else annotations[m[2]!] = v;
  }
  const sde = a['source-date-epoch'] ?? epoch;
  let epochSeconds: number | undefined;
  if (sde !== undefined && sde !== '') {
    if (!/^\d+$/.test(sde)) throw usageError(`invalid SOURCE_DATE_EPOCH "${sde}": want seconds since 1970 (e.g. $(git log -1 --format=%ct))`);
    epochSeconds = Number(sde);
  }
  return {
    compression: comp === 'uncompressed' ? 'none' : (comp as 'gzip' | 'zstd'),
    level,
    force: boolAttr(spec, 'force-compression', false),
    // zstd layers have no Docker media type: OCI ones then, as BuildKit does.
    ociMediaTypes: comp === 'zstd' ? true : boolAttr(spec, 'oci-mediatypes', spec.type !== 'docker'),
    annotations,
    indexAnnotations,
    epoch: epochSeconds,
    rewriteTimestamp: boolAttr(spec, 'rewrite-timestamp', false),
    keep:
      spec.type === 'tar' ||
      spec.type === 'local' ||
      (spec.type === 'image' && !boolAttr(spec, 'push', false) && ['compression', 'compression-level', 'force-compression'].every((k) => a[k] === undefined)),
  };
}

/** A key for memoizing the image built with these options (one per distinct set of layer blobs and config). */
export function imageOptionsKey(o: ImageOptions): string {
  return JSON.stringify([o.compression, o.level, o.force, o.epoch, o.rewriteTimestamp, o.annotations, o.keep]);
}
