/**
 * Test layouts for the registry tests: the busybox image plus a second, fake-architecture
 * manifest (same layer, config saying `s390x`) under one image index tagged 'multi'.
 */
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { makeBusyboxImage } from '../../scripts/make-busybox-image.ts';
import { ANNOTATION_REF_NAME, OCI_INDEX, OCI_MANIFEST } from '../../src/oci/media-types.ts';
import { hostPlatform } from '../../src/oci/platform.ts';
import { digestHex, sha256, type Digest } from '../../src/util/digest.ts';

async function putBlob(dir: string, data: Uint8Array): Promise<{ digest: Digest; size: number }> {
  const digest = sha256(data);
  await mkdir(join(dir, 'blobs/sha256'), { recursive: true });
  await writeFile(join(dir, 'blobs/sha256', digestHex(digest)), data);
  return { digest, size: data.byteLength };
}

const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

export interface MultiLayout {
  indexDigest: Digest;
  hostManifestDigest: Digest;
  otherManifestDigest: Digest;
  otherConfigDigest: Digest;
}

/** Writes tags 'latest' (busybox) and 'multi' (index: host arch + linux/s390x) into `dir`. */
export async function makeMultiPlatformLayout(dir: string): Promise<MultiLayout> {
  const host = await makeBusyboxImage(dir);
  const blob = async (d: Digest) => readFile(join(dir, 'blobs/sha256', digestHex(d)));
  const hostManifestBytes = await blob(host.manifestDigest);
  const hostManifest = JSON.parse(hostManifestBytes.toString());
  const config = JSON.parse((await blob(host.configDigest)).toString());
  const otherConfig = await putBlob(dir, enc({ ...config, architecture: 's390x' }));
  const other = await putBlob(dir, enc({ ...hostManifest, config: { ...hostManifest.config, ...otherConfig } }));
  const index = await putBlob(
    dir,
    enc({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [
        { mediaType: OCI_MANIFEST, digest: other.digest, size: other.size, platform: { os: 'linux', architecture: 's390x' } },
        { mediaType: OCI_MANIFEST, digest: host.manifestDigest, size: hostManifestBytes.length, platform: hostPlatform() },
      ],
    }),
  );
  const top = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8'));
  top.manifests.push({ mediaType: OCI_INDEX, digest: index.digest, size: index.size, annotations: { [ANNOTATION_REF_NAME]: 'multi' } });
  await writeFile(join(dir, 'index.json'), JSON.stringify(top));
  return {
    indexDigest: index.digest,
    hostManifestDigest: host.manifestDigest,
    otherManifestDigest: other.digest,
    otherConfigDigest: otherConfig.digest,
  };
}

/** The file the registry (distribution filesystem driver) stores a blob in. */
export function registryBlobPath(storageDir: string, digest: Digest): string {
  const hex = digestHex(digest);
  return join(storageDir, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
}
