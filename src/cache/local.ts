/**
 * The local cache backend: a cache artifact in an OCI layout directory, named in index.json
 * by its tag (`org.opencontainers.image.ref.name`, default `latest`). Blobs are written to a
 * temp name and renamed, index.json last, so a crash never leaves the index naming a
 * partial blob; other tags' entries are kept.
 */
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import type { Store } from '../store/index.ts';
import { ANNOTATION_REF_NAME, isIndexMediaType, isManifestMediaType, OCI_INDEX } from '../oci/media-types.ts';
import type { Descriptor } from '../oci/types.ts';
import { digestHex, isDigest, sha256, type Digest } from '../util/digest.ts';
import { KilnError } from '../util/errors.ts';
import { tempName, writeFileAtomic } from '../util/fs.ts';
import { CACHE_CONFIG_MEDIA_TYPE, parseCacheDocument, type CacheLayer } from './format.ts';
import type { CacheArtifact } from './artifact.ts';
import type { LoadedCache } from './loaded.ts';

const blobFile = (dir: string, d: Digest) => join(dir, 'blobs', 'sha256', digestHex(d));

export async function writeCacheLayout(dir: string, art: CacheArtifact, tag: string): Promise<void> {
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  const all = [...art.blobs, { desc: art.top, bytes: art.top.bytes, path: undefined }];
  for (const { desc, path, bytes } of all) {
    const target = blobFile(dir, desc.digest);
    if ((await stat(target).catch(() => undefined))?.size === desc.size) continue;
    if (bytes) await writeFileAtomic(target, bytes, 0o444);
    else {
      const tmp = tempName(target);
      try {
        await copyFile(path!, tmp);
        await rename(tmp, target);
      } catch (err) {
        await rm(tmp, { force: true });
        throw err;
      }
    }
  }
  const layout = join(dir, 'oci-layout');
  if (!(await stat(layout).catch(() => undefined))) await writeFileAtomic(layout, '{"imageLayoutVersion":"1.0.0"}', 0o444);
  const kept = (await readIndex(dir).catch(() => [])).filter((m) => m.annotations?.[ANNOTATION_REF_NAME] !== tag);
  const entry: Descriptor = { mediaType: art.top.mediaType, digest: art.top.digest, size: art.top.size, annotations: { [ANNOTATION_REF_NAME]: tag } };
  await writeFileAtomic(join(dir, 'index.json'), `${JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [...kept, entry] })}\n`);
}

async function readIndex(dir: string): Promise<Descriptor[]> {
  const text = await readFile(join(dir, 'index.json'), 'utf8');
  const m = (JSON.parse(text) as { manifests?: unknown }).manifests;
  return Array.isArray(m) ? (m as Descriptor[]) : [];
}

/** A blob of the layout, read whole and verified. */
async function readBlob(dir: string, desc: { digest: Digest }, what: string): Promise<Uint8Array> {
  const bytes = await readFile(blobFile(dir, desc.digest)).catch((err: NodeJS.ErrnoException) => {
    throw new KilnError(`${what}: blob ${desc.digest} is missing (${err.code})`, { kind: 'input' });
  });
  if (sha256(bytes) !== desc.digest) throw new KilnError(`${what}: blob ${desc.digest} does not match its digest`, { kind: 'input' });
  return bytes;
}

/** The cache under `tag` (default latest), or the manifest `digest`, of the layout at `dir`. */
export async function loadLocalCache(store: Store, dir: string, o: { tag?: string; digest?: string }): Promise<LoadedCache[]> {
  const label = dir;
  const index = await readIndex(dir).catch((err: NodeJS.ErrnoException) => {
    throw new KilnError(`${dir}: ${err.code === 'ENOENT' ? 'no OCI layout (index.json) here' : `unreadable index.json: ${err.message}`}`, { kind: 'input' });
  });
  if (o.digest !== undefined && !isDigest(o.digest)) throw new KilnError(`invalid digest "${o.digest}"`, { kind: 'usage' });
  const tag = o.tag ?? 'latest';
  const entry = o.digest ? (index.find((m) => m.digest === o.digest) ?? { mediaType: '', digest: o.digest as Digest, size: 0 }) : index.find((m) => m.annotations?.[ANNOTATION_REF_NAME] === tag);
  if (!entry) throw new KilnError(`${dir}: no cache tagged ${tag}`, { kind: 'input' });
  const top = JSON.parse(new TextDecoder().decode(await readBlob(dir, entry, label))) as { mediaType?: string; config?: Descriptor; manifests?: Descriptor[] };
  const mt = entry.mediaType || top.mediaType || '';
  const docDesc = isManifestMediaType(mt) || top.config ? top.config : isIndexMediaType(mt) || top.manifests ? top.manifests?.find((m) => m.mediaType === CACHE_CONFIG_MEDIA_TYPE) : undefined;
  if (!docDesc || docDesc.mediaType !== CACHE_CONFIG_MEDIA_TYPE) throw new KilnError(`${dir}: ${entry.digest} is not a kiln cache`, { kind: 'input' });
  const doc = parseCacheDocument(await readBlob(dir, docDesc, label), label);
  const fetch = async (layer: CacheLayer, onBytes?: (n: number) => void) => {
    if (await store.content.has(layer.digest)) return;
    const src = blobFile(dir, layer.digest);
    if (!(await stat(src).catch(() => undefined))) throw new KilnError(`${dir}: blob ${layer.digest} is missing`, { kind: 'input' });
    const counted = createReadStream(src).pipe(
      new Transform({
        transform(c: Buffer, _e, cb) {
          onBytes?.(c.byteLength);
          cb(null, c);
        },
      }),
    );
    await store.content.putStream(counted, { digest: layer.digest, size: layer.size });
  };
  return [{ label, ...doc, fetch }];
}
