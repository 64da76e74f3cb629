/**
 * A cache export as OCI content: the document as a config blob, its layers, and on top
 * either an image manifest (`image-manifest=true`, BuildKit's default since v0.21) or an
 * index listing the layers and the document (`image-manifest=false`; a Docker manifest list
 * with `oci-mediatypes=false`).
 */
import { DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST, layerCompression, layerMediaType } from '../oci/media-types.ts';
import type { Descriptor } from '../oci/types.ts';
import { sha256, type Digest } from '../util/digest.ts';
import { CACHE_CONFIG_MEDIA_TYPE, layerDescriptor, type CacheDocument } from './format.ts';
import { documentBytes } from './document.ts';

export interface CacheArtifact {
  /** The layer blobs (files in the content store) and the document (bytes), children first. */
  blobs: { desc: Descriptor; path?: string; bytes?: Uint8Array }[];
  /** The manifest or index that names them. */
  top: Descriptor & { bytes: Uint8Array };
}

export interface ArtifactOptions {
  ociMediaTypes: boolean;
  imageManifest: boolean;
}

export function cacheArtifact(exported: CacheDocument, paths: Map<Digest, string>, o: ArtifactOptions): CacheArtifact {
  // Layer media types in the family of the manifest (the blobs are the same bytes).
  const family = o.ociMediaTypes ? 'oci' : 'docker';
  const doc = { ...exported, layers: exported.layers.map((l) => ({ ...l, mediaType: layerMediaType(family, layerCompression(l.mediaType) ?? 'none') })) };
  const configBytes = documentBytes(doc);
  const config: Descriptor = { mediaType: CACHE_CONFIG_MEDIA_TYPE, digest: sha256(configBytes), size: configBytes.byteLength };
  const layers = doc.layers.map(layerDescriptor);
  const blobs = [...layers.map((desc) => ({ desc, path: paths.get(desc.digest)! })), { desc: config, bytes: configBytes }];
  const mediaType = o.imageManifest ? OCI_MANIFEST : o.ociMediaTypes ? OCI_INDEX : DOCKER_MANIFEST_LIST;
  const body = o.imageManifest ? { schemaVersion: 2, mediaType, config, layers } : { schemaVersion: 2, mediaType, manifests: [...layers, config] };
  const bytes = new TextEncoder().encode(JSON.stringify(body));
  return { blobs, top: { mediaType, digest: sha256(bytes), size: bytes.byteLength, bytes } };
}
