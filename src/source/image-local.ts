import { KilnError } from '../util/errors.ts';
import { isDigest, sha256, type Digest } from '../util/digest.ts';
import { formatReference, parseReference, withTag } from '../oci/reference.ts';
import { isIndexMediaType } from '../oci/media-types.ts';
import { parseImageConfig, parseImageIndex, parseImageManifest, type Descriptor, type Platform } from '../oci/types.ts';
import { formatPlatform } from '../oci/platform.ts';
import { selectPlatformManifest, type ResolvedImage } from '../registry/index.ts';
import type { Store } from '../store/index.ts';

/** A content store blob, or undefined when it is not there (or does not match its digest). */
async function blob(store: Store, d: string): Promise<Uint8Array | undefined> {
  if (!isDigest(d) || !(await store.content.has(d as Digest))) return undefined;
  const bytes = await store.content.read(d as Digest);
  return sha256(bytes) === d ? bytes : undefined;
}

/**
 * Resolves `ref` from the local image store: a name recorded there (`kiln image load`, a
 * build's image output), or any reference pinned to a digest whose manifest is in the
 * content store. Undefined when the store does not have it (then the registry is asked).
 */
export async function resolveLocalImage(store: Store, ref: string, platform: Platform): Promise<ResolvedImage | undefined> {
  const parsed = parseReference(ref);
  let target: Pick<Descriptor, 'digest' | 'mediaType'> | undefined;
  if (parsed.digest) target = { digest: parsed.digest, mediaType: '' };
  else target = store.images.get(formatReference(parsed.tag ? parsed : withTag(parsed, 'latest')))?.target;
  if (!target) return undefined;
  let bytes = await blob(store, target.digest);
  if (!bytes) return undefined;
  let manifestDigest = target.digest as Digest;
  let indexDigest: Digest | undefined;
  const what = `image ${ref} in the local store`;
  const text = new TextDecoder().decode(bytes);
  const mediaType = (JSON.parse(text) as { mediaType?: string; manifests?: unknown }).mediaType ?? target.mediaType;
  if (isIndexMediaType(mediaType) || (JSON.parse(text) as { manifests?: unknown }).manifests) {
    const index = parseImageIndex(bytes, what);
    const chosen = index.manifests.length === 1 && !index.manifests[0]!.platform ? index.manifests[0] : selectPlatformManifest(index, platform);
    if (!chosen) throw new KilnError(`${what}: no manifest for platform ${formatPlatform(platform)}`, { kind: 'input' });
    indexDigest = target.digest as Digest;
    manifestDigest = chosen.digest as Digest;
    bytes = await blob(store, chosen.digest);
    if (!bytes) return undefined;
  }
  const manifest = parseImageManifest(bytes, what);
  const configBytes = await blob(store, manifest.config.digest);
  if (!configBytes) return undefined;
  const out: ResolvedImage = {
    ref: parsed,
    manifestDigest,
    manifest,
    manifestBytes: bytes,
    config: parseImageConfig(configBytes, what),
    configDescriptor: manifest.config,
    configBytes,
  };
  if (indexDigest) out.indexDigest = indexDigest;
  return out;
}
