/**
 * Manifest fetches and image resolution (tag or digest → platform manifest → config), with
 * every digest verified.
 */
import { Buffer } from 'node:buffer';
import {
  baseMediaType, isIndexMediaType, isManifestMediaType, MANIFEST_ACCEPT, OCI_INDEX, OCI_MANIFEST,
} from '../oci/media-types.ts';
import { formatPlatform, platformRank, type Platform } from '../oci/platform.ts';
import { formatReference, type Reference } from '../oci/reference.ts';
import {
  parseImageConfig, parseImageIndex, parseImageManifest, type Descriptor, type ImageConfig, type ImageIndex,
  type ImageManifest,
} from '../oci/types.ts';
import { isDigest, sha256, type Digest } from '../util/digest.ts';
import { KilnError } from '../util/errors.ts';
import { blobBytes, readErrorText } from './blob.ts';
import { httpError } from './errors.ts';
import type { Transport } from './transport.ts';

/** Manifests larger than this are refused (containerd uses the same limit). */
export const MAX_MANIFEST_SIZE = 4 * 1024 * 1024;
/** Image configs larger than this are refused. */
export const MAX_CONFIG_SIZE = 64 * 1024 * 1024;

export interface FetchedManifest {
  /** Base media type (from Content-Type, else the document's `mediaType`, else guessed from its shape). */
  mediaType: string;
  digest: Digest;
  bytes: Uint8Array;
}

export interface ResolvedImage {
  ref: Reference;
  /** Set when the reference named an index / manifest list. */
  indexDigest?: Digest;
  manifestDigest: Digest;
  manifest: ImageManifest;
  manifestBytes: Uint8Array;
  config: ImageConfig;
  configDescriptor: Descriptor;
  configBytes: Uint8Array;
}

function integrityError(action: string, what: string): KilnError {
  return new KilnError(`${action}: ${what}`, { kind: 'runtime', hint: 'the registry served content that does not match its digest' });
}

function sniffMediaType(bytes: Uint8Array): string {
  try {
    const doc = JSON.parse(new TextDecoder().decode(bytes)) as { mediaType?: unknown; manifests?: unknown; config?: unknown };
    if (typeof doc.mediaType === 'string') return baseMediaType(doc.mediaType);
    if (Array.isArray(doc.manifests)) return OCI_INDEX;
    if (doc.config) return OCI_MANIFEST;
  } catch {
    // reported by the parser later
  }
  return '';
}

/**
 * GETs the manifest named by `reference` (a tag or a digest; default: the ref's digest, else
 * its tag) and verifies it: against the digest when fetching by digest, against
 * Docker-Content-Digest when the registry sends one, and against `expect` (a descriptor) when
 * given.
 */
export async function fetchManifest(
  t: Transport,
  ref: Reference,
  reference?: string,
  expect?: Descriptor,
): Promise<FetchedManifest> {
  const target = reference ?? ref.digest ?? ref.tag ?? 'latest';
  const action = `failed to resolve ${formatReference(ref)}${reference && reference !== ref.digest && reference !== ref.tag ? ` (manifest ${reference})` : ''}`;
  const res = await t.send(ref, { method: 'GET', path: `/v2/${ref.path}/manifests/${target}`, headers: { accept: MANIFEST_ACCEPT } });
  if (res.status !== 200) throw httpError(action, res.status, await readErrorText(res.body));
  const parts: Buffer[] = [];
  let size = 0;
  for await (const c of res.body) {
    const b = c as Buffer;
    size += b.length;
    if (size > MAX_MANIFEST_SIZE) {
      res.body.destroy();
      throw new KilnError(`${action}: manifest larger than ${MAX_MANIFEST_SIZE} bytes`, { kind: 'input' });
    }
    parts.push(b);
  }
  const bytes = new Uint8Array(Buffer.concat(parts));
  const digest = sha256(bytes);
  if (isDigest(target) && digest !== target) throw integrityError(action, `manifest digest mismatch: got ${digest}, want ${target}`);
  const dcd = res.headers['docker-content-digest'];
  const claimed = Array.isArray(dcd) ? dcd[0] : dcd;
  if (claimed && claimed.startsWith('sha256:') && claimed !== digest) {
    throw integrityError(action, `manifest digest mismatch: got ${digest}, registry says ${claimed}`);
  }
  if (expect && (expect.digest !== digest || expect.size !== bytes.byteLength)) {
    throw integrityError(action, `manifest ${digest} (${bytes.byteLength} bytes) does not match its descriptor ${expect.digest} (${expect.size} bytes)`);
  }
  const ct = res.headers['content-type'];
  const header = baseMediaType((Array.isArray(ct) ? ct[0] : ct) ?? '');
  const mediaType = isIndexMediaType(header) || isManifestMediaType(header) ? header : sniffMediaType(bytes) || header;
  return { mediaType, digest, bytes };
}

/** Attestation manifests (`unknown/unknown`, vnd.docker.reference.type) are never run. */
function isAttestation(d: Descriptor): boolean {
  return (
    d.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest' ||
    (d.platform?.os === 'unknown' && d.platform.architecture === 'unknown')
  );
}

/** The best manifest of `index` for `platform`, or undefined. Exact matches first, then compatible ones. */
export function selectPlatformManifest(index: ImageIndex, platform: Platform): Descriptor | undefined {
  let best: Descriptor | undefined;
  let bestRank = Infinity;
  for (const d of index.manifests) {
    if (!d.platform || isAttestation(d)) continue;
    if (!isManifestMediaType(d.mediaType) && !isIndexMediaType(d.mediaType)) continue;
    const r = platformRank(platform, d.platform);
    if (r >= 0 && r < bestRank) {
      best = d;
      bestRank = r;
    }
  }
  return best;
}

function availablePlatforms(index: ImageIndex): string[] {
  const seen = new Set<string>();
  for (const d of index.manifests) if (d.platform && !isAttestation(d)) seen.add(formatPlatform(d.platform));
  return [...seen];
}

/**
 * Resolves `ref` for `platform`: the manifest (picking the platform from an index or
 * manifest list, one level of nesting allowed), and the config blob, all verified.
 */
export async function resolveImage(t: Transport, ref: Reference, platform: Platform): Promise<ResolvedImage> {
  const action = `failed to resolve ${formatReference(ref)}`;
  let top = await fetchManifest(t, ref);
  let indexDigest: Digest | undefined;
  for (let depth = 0; isIndexMediaType(top.mediaType); depth++) {
    if (depth > 1) throw new KilnError(`${action}: nested image indexes are not supported`, { kind: 'input' });
    const index = parseImageIndex(top.bytes, `image index of ${formatReference(ref)}`);
    const chosen = selectPlatformManifest(index, platform);
    if (!chosen) {
      const avail = availablePlatforms(index);
      throw new KilnError(`${action}: no match for platform ${formatPlatform(platform)} in the manifest list`, {
        kind: 'input',
        details: [`available platforms: ${avail.length ? avail.join(', ') : '(none)'}`],
        hint: `pick one of the available platforms with --platform`,
      });
    }
    indexDigest ??= top.digest;
    top = await fetchManifest(t, ref, chosen.digest, chosen);
  }
  if (!isManifestMediaType(top.mediaType)) {
    throw new KilnError(`${action}: unsupported manifest media type ${JSON.stringify(top.mediaType)}`, {
      kind: 'input',
      hint: top.mediaType.includes('v1+prettyjws') ? 'Docker schema 1 images are not supported; re-push the image with a current tool' : undefined,
    });
  }
  const manifest = parseImageManifest(top.bytes, `image manifest of ${formatReference(ref)}`);
  const configDescriptor = manifest.config;
  const configBytes = await blobBytes(t, ref, configDescriptor, MAX_CONFIG_SIZE);
  const config = parseImageConfig(configBytes, `image config of ${formatReference(ref)}`);
  const out: ResolvedImage = {
    ref,
    manifestDigest: top.digest,
    manifest,
    manifestBytes: top.bytes,
    config,
    configDescriptor,
    configBytes,
  };
  if (indexDigest) out.indexDigest = indexDigest;
  return out;
}
