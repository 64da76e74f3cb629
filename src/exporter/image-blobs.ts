/**
 * The config and manifest blobs of an image, as canonical bytes (Go `encoding/json` field
 * order, as BuildKit and containerd write them). Pure: the same image always gives the
 * same bytes and digests.
 */
import { sha256 } from '../util/digest.ts';
import { KilnError } from '../util/errors.ts';
import type { Descriptor } from '../oci/types.ts';
import {
  DOCKER_CONFIG,
  DOCKER_FOREIGN_LAYER,
  DOCKER_MANIFEST,
  OCI_CONFIG,
  OCI_LAYER_NONDIST,
  OCI_LAYER_NONDIST_GZIP,
  OCI_LAYER_NONDIST_ZSTD,
  OCI_MANIFEST,
  baseMediaType,
  isNonDistributable,
  layerCompression,
  layerMediaType,
} from '../oci/media-types.ts';
import { encodeGoJson } from './canonical-json.ts';
import { IMAGE_CONFIG_SHAPE, MANIFEST_SHAPE } from './spec-shapes.ts';
import type { ExportImage } from './types.ts';

export interface EncodedBlob {
  bytes: Uint8Array;
  descriptor: Descriptor;
}

export interface ImageBlobs {
  config: EncodedBlob;
  manifest: EncodedBlob;
  /** The layer descriptors as written in the manifest (media types converted). */
  layers: Descriptor[];
}

export interface ImageBlobsOptions {
  /** OCI media types (default) or Docker schema 2 ones, layers included. */
  ociMediaTypes?: boolean;
}

/** Annotation prefixes that are the builder's bookkeeping, never written into a manifest. */
const INTERNAL_ANNOTATION_PREFIXES = ['containerd.io/', 'buildkit/'];

/**
 * Encodes the config and the manifest of `image`. Throws a KilnError when the config's
 * `rootfs.diff_ids` does not list exactly the layers' diffIds, or a layer media type has
 * no equivalent in the requested family.
 */
export function buildImageBlobs(image: ExportImage, opts: ImageBlobsOptions = {}): ImageBlobs {
  const oci = opts.ociMediaTypes ?? true;
  checkDiffIds(image);
  const configBytes = encode(image.config, IMAGE_CONFIG_SHAPE);
  const config: Descriptor = {
    mediaType: oci ? OCI_CONFIG : DOCKER_CONFIG,
    digest: sha256(configBytes),
    size: configBytes.byteLength,
  } as Descriptor;
  const layers = image.layers.map((l) => layerDescriptor(l.descriptor, oci));
  const manifestValue: Record<string, unknown> = {
    schemaVersion: 2,
    mediaType: oci ? OCI_MANIFEST : DOCKER_MANIFEST,
    config,
    layers,
  };
  // Docker schema 2 manifests have no annotations field.
  if (oci && image.annotations && Object.keys(image.annotations).length > 0) manifestValue.annotations = image.annotations;
  const manifestBytes = encode(manifestValue, MANIFEST_SHAPE);
  const manifest: Descriptor = {
    mediaType: oci ? OCI_MANIFEST : DOCKER_MANIFEST,
    digest: sha256(manifestBytes),
    size: manifestBytes.byteLength,
  } as Descriptor;
  return { config: { bytes: configBytes, descriptor: config }, manifest: { bytes: manifestBytes, descriptor: manifest }, layers };
}

function encode(value: unknown, shape: Parameters<typeof encodeGoJson>[1]): Uint8Array {
  return new TextEncoder().encode(encodeGoJson(value, shape));
}

function checkDiffIds(image: ExportImage): void {
  const rootfs = (image.config as { rootfs?: { diff_ids?: string[] } }).rootfs;
  const listed = rootfs?.diff_ids ?? [];
  const want = image.layers.map((l) => l.diffId);
  if (listed.length !== want.length || listed.some((d, i) => d !== want[i])) {
    throw new KilnError(`image config lists ${listed.length} diff_ids but the image has ${want.length} layers, or they differ`, {
      kind: 'internal',
      details: [`config: ${listed.join(' ')}`, `layers: ${want.join(' ')}`],
    });
  }
}

/** The layer's descriptor in the requested media-type family, without internal annotations. */
function layerDescriptor(d: Descriptor, oci: boolean): Descriptor {
  const out: Record<string, unknown> = { mediaType: convertLayerMediaType(d.mediaType, oci), digest: d.digest, size: d.size };
  if (d.urls && d.urls.length > 0) out.urls = d.urls;
  const annotations = Object.fromEntries(
    Object.entries(d.annotations ?? {}).filter(([k]) => !INTERNAL_ANNOTATION_PREFIXES.some((p) => k.startsWith(p))),
  );
  if (Object.keys(annotations).length > 0) out.annotations = annotations;
  return out as unknown as Descriptor;
}

/** Converts a layer media type between the OCI and Docker families (a no-op when it already fits). */
export function convertLayerMediaType(mt: string, oci: boolean): string {
  const compression = layerCompression(mt);
  if (compression === undefined) {
    throw new KilnError(`unknown layer media type ${JSON.stringify(mt)}`, { kind: 'internal' });
  }
  if (!isNonDistributable(mt)) return layerMediaType(oci ? 'oci' : 'docker', compression);
  if (!oci) {
    if (compression !== 'gzip') {
      throw new KilnError(`non-distributable layer ${baseMediaType(mt)} has no Docker media type`, { kind: 'input' });
    }
    return DOCKER_FOREIGN_LAYER;
  }
  return compression === 'none' ? OCI_LAYER_NONDIST : compression === 'gzip' ? OCI_LAYER_NONDIST_GZIP : OCI_LAYER_NONDIST_ZSTD;
}
