/**
 * Attestations stored as BuildKit stores them (docs/attestations/attestation-storage.md): the
 * image becomes an index holding the image manifest (with its platform) and, after it, an
 * attestation manifest (an OCI artifact: artifactType, the empty config, one in-toto layer
 * per statement, `subject` naming the image manifest) with platform unknown/unknown and the
 * `vnd.docker.reference.*` annotations.
 */
import { sha256, type Digest } from '../util/digest.ts';
import { OCI_INDEX, OCI_MANIFEST } from '../oci/media-types.ts';
import type { Descriptor } from '../oci/types.ts';
import type { EncodedBlob, ImageBlobs } from './image-blobs.ts';
import type { ExportImage } from './types.ts';
import { SLSA_V1 } from './provenance.ts';
import { KilnError } from '../util/errors.ts';

export const ATTESTATION_ARTIFACT = 'application/vnd.docker.attestation.manifest.v1+json';
export const IN_TOTO_JSON = 'application/vnd.in-toto+json';
const EMPTY_BYTES = new TextEncoder().encode('{}');
export const EMPTY_CONFIG = { mediaType: 'application/vnd.oci.empty.v1+json', digest: sha256(EMPTY_BYTES), size: 2 };

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

const encode = (value: unknown): EncodedBlob['bytes'] => new TextEncoder().encode(JSON.stringify(value));

function blob(bytes: Uint8Array, mediaType: string): EncodedBlob {
  return { bytes, descriptor: { mediaType, digest: sha256(bytes), size: bytes.byteLength } as Descriptor };
}

/**
 * The attestation manifest about an image manifest, its entry for an index (after the image's)
 * and every blob it needs (statements, the empty config).
 */
export function attestationManifest(
  subject: Descriptor,
  statements: { bytes: Uint8Array; predicateType: string }[],
): { manifest: EncodedBlob; entry: Record<string, unknown>; blobs: EncodedBlob[] } {
  const layers = statements.map((s) => ({ ...blob(s.bytes, IN_TOTO_JSON), predicateType: s.predicateType }));
  const manifest = blob(
    encode({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: ATTESTATION_ARTIFACT,
      config: EMPTY_CONFIG,
      layers: layers.map((l) => ({ ...l.descriptor, annotations: { 'in-toto.io/predicate-type': l.predicateType } })),
      subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
    }),
    OCI_MANIFEST,
  );
  const entry = {
    ...manifest.descriptor,
    annotations: { 'vnd.docker.reference.digest': subject.digest as Digest, 'vnd.docker.reference.type': 'attestation-manifest' },
    platform: { architecture: 'unknown', os: 'unknown' },
  };
  return { manifest, entry, blobs: [...layers.map((l) => ({ bytes: l.bytes, descriptor: l.descriptor })), { bytes: EMPTY_BYTES, descriptor: EMPTY_CONFIG as Descriptor }] };
}

/** An index entry for an image manifest of `platform`. */
export function platformEntry(manifest: Descriptor, platform: Platform): Record<string, unknown> {
  return { ...manifest, platform: { architecture: platform.architecture, os: platform.os, ...(platform.variant ? { variant: platform.variant } : {}) } };
}

/** The index, and every new blob it needs besides the image's own (attestation manifest, statements, empty config). */
export function attachAttestations(
  image: ImageBlobs,
  platform: Platform,
  statements: { bytes: Uint8Array; predicateType: string }[],
): { index: EncodedBlob; blobs: EncodedBlob[] } {
  const att = attestationManifest(image.manifest.descriptor, statements);
  const index = blob(encode({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [platformEntry(image.manifest.descriptor, platform), att.entry] }), OCI_INDEX);
  return { index, blobs: [att.manifest, ...att.blobs] };
}

/** The subject name BuildKit gives an image: a purl of its first name, `_` when it has none. */
export function subjectName(names: string[], platform: Platform): string {
  const n = names[0];
  if (!n) return '_';
  const at = n.lastIndexOf(':') > n.lastIndexOf('/') ? n.lastIndexOf(':') : -1;
  const repo = at < 0 ? n : n.slice(0, at);
  const tag = at < 0 ? 'latest' : n.slice(at + 1);
  const plat = encodeURIComponent(`${platform.os}/${platform.architecture}${platform.variant ? `/${platform.variant}` : ''}`);
  return `pkg:docker/${repo}@${tag}?platform=${plat}`;
}

/** The provenance statement about an image's manifest, or undefined when the image has none. */
export function provenanceStatement(image: ExportImage, blobs: ImageBlobs, names: string[]): { bytes: Uint8Array; predicateType: string } | undefined {
  const p = image.provenance;
  if (!p) return undefined;
  if (blobs.manifest.descriptor.mediaType !== OCI_MANIFEST) {
    throw new KilnError('provenance attestations need OCI media types', { kind: 'usage', hint: 'drop oci-mediatypes=false, or build without --provenance' });
  }
  return { bytes: p.statement({ digest: blobs.manifest.descriptor.digest as Digest, name: subjectName(names, p.platform) }), predicateType: SLSA_V1 };
}

/** The index with the image's provenance attached, or undefined when the image has none. */
export function withProvenance(image: ExportImage, blobs: ImageBlobs, names: string[]): { index: EncodedBlob; blobs: EncodedBlob[] } | undefined {
  const statement = provenanceStatement(image, blobs, names);
  return statement ? attachAttestations(blobs, image.provenance!.platform, [statement]) : undefined;
}
