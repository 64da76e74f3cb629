/**
 * Multi-platform images: one image per platform, listed by an image index (OCI) or a manifest
 * list (Docker media types), each entry with its platform; provenance, when the images carry
 * it, as one attestation manifest per image after the images (BuildKit's layout). Pure: the
 * same images give the same bytes.
 */
import { sha256, type Digest } from '../util/digest.ts';
import { DOCKER_MANIFEST_LIST, OCI_INDEX } from '../oci/media-types.ts';
import type { Descriptor } from '../oci/types.ts';
import { attestationManifest, platformEntry, provenanceStatement, withProvenance, type Platform } from './attestation.ts';
import { blobPath, imageBlobRecords, type LayoutRecord } from './layout.ts';
import { encodeGoJson } from './canonical-json.ts';
import { buildImageBlobs, type EncodedBlob, type ImageBlobs } from './image-blobs.ts';
import { INDEX_SHAPE } from './spec-shapes.ts';
import type { ExportImage, ExportSource, RootfsView } from './types.ts';

/** One platform's image of a multi-platform build. */
export interface PlatformImage {
  platform: Platform;
  image: ExportImage;
  /** Mounts this platform's root filesystem (local and tar outputs). */
  openRootfs(): Promise<RootfsView>;
}

export interface IndexBlobs {
  index: EncodedBlob;
  /** Each platform's config and manifest, in the order given. */
  images: ImageBlobs[];
  /** Attestation manifests and their blobs. */
  extra: EncodedBlob[];
}

/** `linux/arm64/v8` → `linux_arm64_v8`: a platform's directory in local and tar outputs. */
export function platformDirName(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('_');
}

/** The index of `images` and the blobs it needs besides their layers. */
export function buildIndexBlobs(images: PlatformImage[], names: string[], opts: { ociMediaTypes?: boolean } = {}): IndexBlobs {
  const oci = opts.ociMediaTypes ?? true;
  const blobs = images.map((i) => buildImageBlobs(i.image, { ociMediaTypes: oci }));
  const entries: Record<string, unknown>[] = blobs.map((b, i) => platformEntry(b.manifest.descriptor, images[i]!.platform));
  const extra: EncodedBlob[] = [];
  images.forEach((pi, i) => {
    const statement = provenanceStatement(pi.image, blobs[i]!, names.length ? names : []);
    if (!statement) return;
    const att = attestationManifest(blobs[i]!.manifest.descriptor, [statement]);
    entries.push(att.entry);
    extra.push(att.manifest, ...att.blobs);
  });
  const mediaType = oci ? OCI_INDEX : DOCKER_MANIFEST_LIST;
  const bytes = new TextEncoder().encode(encodeGoJson({ schemaVersion: 2, mediaType, manifests: entries }, INDEX_SHAPE));
  const index: EncodedBlob = { bytes, descriptor: { mediaType, digest: sha256(bytes), size: bytes.byteLength } as Descriptor };
  return { index, images: blobs, extra: dedupe(extra) };
}

function dedupe(blobs: EncodedBlob[]): EncodedBlob[] {
  const seen = new Set<string>();
  return blobs.filter((b) => (seen.has(b.descriptor.digest) ? false : (seen.add(b.descriptor.digest), true)));
}

/**
 * What an image output writes: the top descriptor (an image manifest, the index holding it and
 * its provenance, or the index of every platform), the blobs as layout records (layers
 * streamed from the content store), and the images' blobs.
 */
export function exportBlobs(src: ExportSource, names: string[], opts: { ociMediaTypes?: boolean } = {}): { top: Descriptor; records: LayoutRecord[]; images: { image: ExportImage; blobs: ImageBlobs }[]; configDigest?: Digest } {
  const bytesRecord = (b: EncodedBlob): LayoutRecord => ({ name: blobPath(b.descriptor.digest as Digest), mode: 0o444, kind: 'bytes', bytes: b.bytes });
  if (src.platforms) {
    const idx = buildIndexBlobs(src.platforms, names, opts);
    const records = src.platforms.flatMap((p, i) => imageBlobRecords(p.image, idx.images[i]!));
    records.push(...idx.extra.map(bytesRecord), bytesRecord(idx.index));
    return { top: idx.index.descriptor, records, images: src.platforms.map((p, i) => ({ image: p.image, blobs: idx.images[i]! })) };
  }
  const blobs = buildImageBlobs(src.image, opts);
  const attested = withProvenance(src.image, blobs, names);
  const records = imageBlobRecords(src.image, blobs);
  for (const b of attested ? [attested.index, ...attested.blobs] : []) records.push(bytesRecord(b));
  return { top: attested ? attested.index.descriptor : blobs.manifest.descriptor, records, images: [{ image: src.image, blobs }], configDigest: blobs.config.descriptor.digest as Digest };
}

