/**
 * Hostile images served from the test registry: the busybox test image's layer (so RUN
 * works) under layers made from raw tar bytes, pushed with plain distribution API calls (no
 * tool in between that could refuse or fix them). The config may lie about diff ids.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { makeBusyboxImage } from '../../../scripts/make-busybox-image.ts';
import { digestHex, sha256, type Digest } from '../../../src/util/digest.ts';
import { makeTempDir, removeAll } from '../../../src/util/fs.ts';
import { OCI_CONFIG, OCI_LAYER_GZIP, OCI_MANIFEST } from '../../../src/oci/media-types.ts';
import { hostPlatform } from '../../../src/oci/platform.ts';

interface Blob {
  digest: Digest;
  bytes: Uint8Array;
}

let busyboxLayer: Promise<{ blob: Blob; diffId: Digest }> | undefined;

/** The busybox test image's one layer (gzip) and its diff id, made once per process. */
export function busyboxBaseLayer(): Promise<{ blob: Blob; diffId: Digest }> {
  busyboxLayer ??= (async () => {
    const dir = await makeTempDir('kiln-hostile-base-');
    try {
      await makeBusyboxImage(dir);
      const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8'));
      const blob = (d: string) => readFile(join(dir, 'blobs', 'sha256', digestHex(d as Digest)));
      const manifest = JSON.parse((await blob(index.manifests[0].digest)).toString());
      const config = JSON.parse((await blob(manifest.config.digest)).toString());
      const bytes = await blob(manifest.layers[0].digest);
      return { blob: { digest: manifest.layers[0].digest, bytes }, diffId: config.rootfs.diff_ids[0] };
    } finally {
      await removeAll(dir);
    }
  })();
  return busyboxLayer;
}

async function putBlob(url: string, repo: string, bytes: Uint8Array): Promise<Digest> {
  const digest = sha256(bytes);
  const start = await fetch(`${url}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  await start.arrayBuffer();
  if (start.status !== 202) throw new Error(`blob upload start: ${start.status}`);
  const loc = new URL(start.headers.get('location')!, url);
  loc.searchParams.set('digest', digest);
  const put = await fetch(loc, { method: 'PUT', body: Buffer.from(bytes), headers: { 'content-type': 'application/octet-stream' } });
  await put.arrayBuffer();
  if (put.status !== 201) throw new Error(`blob upload: ${put.status}`);
  return digest;
}

export interface HostileImage {
  /** Layers on top of busybox: raw (uncompressed) tar bytes, gzipped on the way. */
  layers: Uint8Array[];
  /** Leave out the busybox base layer. */
  noBase?: boolean;
  /** What the config says the diff ids are (default: the true ones). */
  diffIds?: (real: Digest[]) => Digest[];
}

/** Pushes `127.0.0.1:PORT/NAME:latest` and returns that reference. */
export async function pushHostileImage(url: string, name: string, img: HostileImage): Promise<string> {
  const base = img.noBase ? [] : [await busyboxBaseLayer()];
  const layers = [...base.map((b) => ({ bytes: b.blob.bytes, diffId: b.diffId })), ...img.layers.map((t) => ({ bytes: gzipSync(t), diffId: sha256(t) }))];
  const descs = [];
  for (const l of layers) descs.push({ mediaType: OCI_LAYER_GZIP, digest: await putBlob(url, name, l.bytes), size: l.bytes.byteLength });
  const real = layers.map((l) => l.diffId);
  const platform = hostPlatform();
  const config = new TextEncoder().encode(
    JSON.stringify({
      architecture: platform.architecture,
      os: platform.os,
      config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['sh'] },
      rootfs: { type: 'layers', diff_ids: img.diffIds ? img.diffIds(real) : real },
      history: layers.map(() => ({ created_by: 'hostile' })),
    }),
  );
  const configDigest = await putBlob(url, name, config);
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: OCI_CONFIG, digest: configDigest, size: config.byteLength },
    layers: descs,
  });
  const res = await fetch(`${url}/v2/${name}/manifests/latest`, { method: 'PUT', body: manifest, headers: { 'content-type': OCI_MANIFEST } });
  await res.arrayBuffer();
  if (res.status !== 201) throw new Error(`manifest upload: ${res.status}`);
  return `${new URL(url).host}/${name}:latest`;
}
