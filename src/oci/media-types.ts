/**
 * OCI and Docker media types, and small predicates over them. Every comparison ignores
 * media-type parameters (`; charset=...`) and surrounding whitespace.
 */

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar';
export const OCI_LAYER_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';
export const OCI_LAYER_ZSTD = 'application/vnd.oci.image.layer.v1.tar+zstd';
export const OCI_LAYER_NONDIST = 'application/vnd.oci.image.layer.nondistributable.v1.tar';
export const OCI_LAYER_NONDIST_GZIP = 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip';
export const OCI_LAYER_NONDIST_ZSTD = 'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd';
export const OCI_EMPTY = 'application/vnd.oci.empty.v1+json';

export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_MANIFEST_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
export const DOCKER_CONFIG = 'application/vnd.docker.container.image.v1+json';
export const DOCKER_LAYER_GZIP = 'application/vnd.docker.image.rootfs.diff.tar.gzip';
export const DOCKER_LAYER = 'application/vnd.docker.image.rootfs.diff.tar';
export const DOCKER_LAYER_ZSTD = 'application/vnd.docker.image.rootfs.diff.tar.zstd';
export const DOCKER_FOREIGN_LAYER = 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip';

/** The layout file that marks an OCI image layout directory. */
export const OCI_LAYOUT_FILE = 'oci-layout';
/** Annotation naming a manifest inside an OCI layout's index.json. */
export const ANNOTATION_REF_NAME = 'org.opencontainers.image.ref.name';

/** Accept header value for a manifest GET: every manifest and index type kiln reads. */
export const MANIFEST_ACCEPT = [OCI_INDEX, DOCKER_MANIFEST_LIST, OCI_MANIFEST, DOCKER_MANIFEST].join(', ');

/** Strips parameters and lowercases: `Application/JSON; charset=utf-8` → `application/json`. */
export function baseMediaType(mt: string): string {
  const semi = mt.indexOf(';');
  return (semi < 0 ? mt : mt.slice(0, semi)).trim().toLowerCase();
}

export type MediaFamily = 'oci' | 'docker' | 'unknown';

export function mediaFamily(mt: string): MediaFamily {
  const b = baseMediaType(mt);
  if (b.startsWith('application/vnd.oci.')) return 'oci';
  if (b.startsWith('application/vnd.docker.')) return 'docker';
  return 'unknown';
}

/** An image index (OCI) or manifest list (Docker). */
export function isIndexMediaType(mt: string): boolean {
  const b = baseMediaType(mt);
  return b === OCI_INDEX || b === DOCKER_MANIFEST_LIST;
}

/** A single-platform image manifest (OCI or Docker schema 2). */
export function isManifestMediaType(mt: string): boolean {
  const b = baseMediaType(mt);
  return b === OCI_MANIFEST || b === DOCKER_MANIFEST;
}

export function isConfigMediaType(mt: string): boolean {
  const b = baseMediaType(mt);
  return b === OCI_CONFIG || b === DOCKER_CONFIG;
}

export type LayerCompression = 'none' | 'gzip' | 'zstd';

const LAYER_COMPRESSION: Record<string, LayerCompression> = {
  [OCI_LAYER]: 'none',
  [OCI_LAYER_GZIP]: 'gzip',
  [OCI_LAYER_ZSTD]: 'zstd',
  [OCI_LAYER_NONDIST]: 'none',
  [OCI_LAYER_NONDIST_GZIP]: 'gzip',
  [OCI_LAYER_NONDIST_ZSTD]: 'zstd',
  [DOCKER_LAYER]: 'none',
  [DOCKER_LAYER_GZIP]: 'gzip',
  [DOCKER_LAYER_ZSTD]: 'zstd',
  [DOCKER_FOREIGN_LAYER]: 'gzip',
};

export function isLayerMediaType(mt: string): boolean {
  return baseMediaType(mt) in LAYER_COMPRESSION;
}

/** The compression of a layer media type; undefined when `mt` is not a known layer type. */
export function layerCompression(mt: string): LayerCompression | undefined {
  return LAYER_COMPRESSION[baseMediaType(mt)];
}

/** Foreign (Docker) or non-distributable (OCI) layers: never pushed, possibly not pullable. */
export function isNonDistributable(mt: string): boolean {
  const b = baseMediaType(mt);
  return b === DOCKER_FOREIGN_LAYER || b.startsWith('application/vnd.oci.image.layer.nondistributable.');
}

/** The layer media type of `family` for `compression` (what an exporter writes). */
export function layerMediaType(family: 'oci' | 'docker', compression: LayerCompression): string {
  if (family === 'oci') return compression === 'none' ? OCI_LAYER : compression === 'gzip' ? OCI_LAYER_GZIP : OCI_LAYER_ZSTD;
  return compression === 'none' ? DOCKER_LAYER : compression === 'gzip' ? DOCKER_LAYER_GZIP : DOCKER_LAYER_ZSTD;
}
