/**
 * Reading a cache from an OCI layout directory, named in index.json by its tag
 * (`org.opencontainers.image.ref.name`, default `latest`) or by digest. (Exports are written
 * by cli/cache-io.ts with the oci exporter's layout writer.)
 */
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Store } from '../store/index.ts';
import { layoutEntry } from '../store/image-load.ts';
import type { Descriptor } from '../oci/types.ts';
import { digestHex, isDigest, sha256, type Digest } from '../util/digest.ts';
import { KilnError } from '../util/errors.ts';
import { tap } from '../util/tap.ts';
import { documentDescriptor, parseCacheDocument, type CacheLayer } from './format.ts';
import type { LoadedCache } from './loaded.ts';

const blobFile = (dir: string, d: Digest) => join(dir, 'blobs', 'sha256', digestHex(d));

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
  if (o.digest !== undefined && !isDigest(o.digest)) throw new KilnError(`invalid digest "${o.digest}"`, { kind: 'usage' });
  const entry = await layoutEntry(dir, o.digest ?? o.tag ?? 'latest');
  const top = JSON.parse(new TextDecoder().decode(await readBlob(dir, entry, label))) as { mediaType?: string; config?: Descriptor; manifests?: Descriptor[] };
  const docDesc = documentDescriptor(entry.mediaType || top.mediaType || '', top);
  if (!docDesc) throw new KilnError(`${dir}: ${entry.digest} is not a kiln cache`, { kind: 'input' });
  const doc = parseCacheDocument(await readBlob(dir, docDesc, label), label);
  const fetch = async (layer: CacheLayer, onBytes?: (n: number) => void) => {
    if (await store.content.has(layer.digest)) return;
    const src = blobFile(dir, layer.digest);
    if (!(await stat(src).catch(() => undefined))) throw new KilnError(`${dir}: blob ${layer.digest} is missing`, { kind: 'input' });
    await store.content.putStream(createReadStream(src).pipe(tap((c) => onBytes?.(c.byteLength))), { digest: layer.digest, size: layer.size });
  };
  return [{ label, ...doc, fetch }];
}
