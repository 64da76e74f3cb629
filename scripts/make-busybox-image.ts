/**
 * Writes a small, deterministic OCI image layout holding a one-layer linux/<host arch>
 * busybox image built from the host's static `/bin/busybox` (Debian busybox-static).
 * Same host binary → same bytes, same digests on every run.
 *
 *   bun scripts/make-busybox-image.ts DIR [TAG]
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { pack, type Header } from 'tar-stream';
import { digestHex, sha256, type Digest } from '../src/util/digest.ts';
import { ANNOTATION_REF_NAME, OCI_CONFIG, OCI_INDEX, OCI_LAYER_GZIP, OCI_MANIFEST } from '../src/oci/media-types.ts';
import { hostPlatform } from '../src/oci/platform.ts';

const BUSYBOX = '/bin/busybox';
/** Every entry and the config carry this time, so the bytes never change. */
const EPOCH = new Date('2024-01-01T00:00:00Z');
const PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

const PASSWD = 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n';
const GROUP = 'root:x:0:\nnogroup:x:65534:\n';

function applets(): string[] {
  const r = spawnSync(BUSYBOX, ['--list'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${BUSYBOX} --list failed: ${r.stderr || r.error?.message}`);
  const names = r.stdout.split('\n').map((s) => s.trim()).filter((s) => s && s !== 'busybox' && !s.includes('/'));
  return [...new Set(names)].sort();
}

async function layerTar(busybox = BUSYBOX): Promise<Uint8Array> {
  const p = pack();
  const chunks: Buffer[] = [];
  const done = new Promise<void>((res, rej) => {
    p.on('data', (c: unknown) => {
      chunks.push(c as Buffer);
    });
    p.on('end', () => res());
    p.on('error', rej);
  });
  const base = { uid: 0, gid: 0, uname: 'root', gname: 'root', mtime: EPOCH };
  const add = (h: Partial<Header> & { name: string }, data?: Buffer) =>
    new Promise<void>((res, rej) => {
      const cb = (err?: Error | null) => (err ? rej(err) : res());
      if (data) p.entry({ ...base, ...h }, data, cb);
      else p.entry({ ...base, ...h }, cb);
    });
  const dir = (name: string, mode = 0o755) => add({ name: `${name}/`, type: 'directory', mode });
  const file = (name: string, data: Buffer, mode = 0o644) => add({ name, type: 'file', mode, size: data.length }, data);

  await dir('bin');
  await file('bin/busybox', readFileSync(busybox), 0o755);
  // Applets from the host's busybox (the same Debian version for every architecture).
  for (const a of applets()) await add({ name: `bin/${a}`, type: 'symlink', linkname: 'busybox', mode: 0o777 });
  for (const d of ['dev', 'etc', 'home', 'proc', 'sys', 'usr', 'usr/bin', 'usr/sbin', 'var']) await dir(d);
  await file('etc/group', Buffer.from(GROUP));
  await file('etc/passwd', Buffer.from(PASSWD));
  await dir('root', 0o700);
  await dir('tmp', 0o1777);
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

async function writeBlob(dir: string, data: Uint8Array): Promise<{ digest: Digest; size: number }> {
  const digest = sha256(data);
  const blobDir = join(dir, 'blobs', 'sha256');
  await mkdir(blobDir, { recursive: true });
  await writeFile(join(blobDir, digestHex(digest)), data);
  return { digest, size: data.byteLength };
}

const json = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

type Platform = { os: string; architecture: string; variant?: string };

/** Writes one busybox image's blobs (layer, config, manifest) into the layout at `destDir`; returns its manifest descriptor. */
async function writeImage(destDir: string, busybox: string, platform: Platform): Promise<{ mediaType: string; digest: Digest; size: number; configDigest: Digest }> {
  const tar = await layerTar(busybox);
  const diffId = sha256(tar);
  const layer = await writeBlob(destDir, gzipSync(tar, { level: 9 }));
  const created = EPOCH.toISOString().replace('.000Z', 'Z');
  const config = {
    created,
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant ? { variant: platform.variant } : {}),
    config: { Env: [PATH_ENV], Cmd: ['sh'] },
    rootfs: { type: 'layers', diff_ids: [diffId] },
    history: [{ created, created_by: `ADD busybox (${busybox === BUSYBOX ? `${BUSYBOX} from the host` : `busybox-static for ${platform.architecture}`}) in /`, comment: 'kiln test image' }],
  };
  const cfg = await writeBlob(destDir, json(config));
  const manifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: OCI_CONFIG, digest: cfg.digest, size: cfg.size },
    layers: [{ mediaType: OCI_LAYER_GZIP, digest: layer.digest, size: layer.size }],
  };
  const man = await writeBlob(destDir, json(manifest));
  return { mediaType: OCI_MANIFEST, digest: man.digest, size: man.size, configDigest: cfg.digest };
}

/** Points tag `tag` of the layout's index.json at `entry` (replacing an entry of that tag; others stay). */
async function tagInLayout(destDir: string, tag: string, entry: Record<string, unknown>): Promise<void> {
  await writeFile(join(destDir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const indexPath = join(destDir, 'index.json');
  let manifests: Array<{ annotations?: Record<string, string> }> = [];
  try {
    manifests = JSON.parse(await readFile(indexPath, 'utf8')).manifests ?? [];
  } catch {
    // no index yet
  }
  manifests = manifests.filter((m) => m.annotations?.[ANNOTATION_REF_NAME] !== tag);
  manifests.push({ ...entry, annotations: { [ANNOTATION_REF_NAME]: tag } } as (typeof manifests)[number]);
  await writeFile(indexPath, JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests }));
}

/**
 * Writes (or adds to) the OCI layout at `destDir`: blobs, `oci-layout`, and `index.json` whose
 * entry for this image is annotated `org.opencontainers.image.ref.name` = `opts.tag`
 * ('latest' by default). An existing entry with the same tag is replaced; other entries stay.
 * Returns the digests of the manifest and the config. Deterministic for a given host busybox.
 */
export async function makeBusyboxImage(
  destDir: string,
  opts: { tag?: string } = {},
): Promise<{ manifestDigest: Digest; configDigest: Digest }> {
  const platform = hostPlatform();
  const m = await writeImage(destDir, BUSYBOX, platform);
  await tagInLayout(destDir, opts.tag ?? 'latest', { mediaType: m.mediaType, digest: m.digest, size: m.size, platform });
  return { manifestDigest: m.digest, configDigest: m.configDigest };
}

/**
 * A multi-platform busybox: one image per (static busybox binary, platform), listed by an image
 * index tagged `tag` in the layout at `destDir`. Returns the index digest.
 */
export async function makeBusyboxIndex(destDir: string, tag: string, variants: { busybox: string; platform: Platform }[]): Promise<Digest> {
  const manifests = [];
  for (const v of variants) {
    const m = await writeImage(destDir, v.busybox, v.platform);
    manifests.push({ mediaType: m.mediaType, digest: m.digest, size: m.size, platform: v.platform });
  }
  const index = await writeBlob(destDir, json({ schemaVersion: 2, mediaType: OCI_INDEX, manifests }));
  await tagInLayout(destDir, tag, { mediaType: OCI_INDEX, digest: index.digest, size: index.size });
  return index.digest;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [dir, tag] = process.argv.slice(2);
  if (!dir) {
    console.error('usage: bun scripts/make-busybox-image.ts DIR [TAG]');
    process.exit(2);
  }
  const r = await makeBusyboxImage(dir, { tag });
  console.log(JSON.stringify(r));
}
