import { KilnError } from '../util/errors.ts';
import { formatReference, type Reference } from '../oci/reference.ts';
import type { Descriptor } from '../oci/types.ts';
import { discard, type Transport } from './transport.ts';

async function failure(what: string, res: { status: number; body: { text(): Promise<string> } }): Promise<KilnError> {
  const text = await res.body.text().catch(() => '');
  const detail = text.slice(0, 300).trim();
  const hint = res.status === 401 || res.status === 403 ? 'log in with kiln login REGISTRY (or check the repository permissions)' : undefined;
  return new KilnError(`${what}: HTTP ${res.status}${detail ? ` ${detail}` : ''}`, { kind: 'runtime', hint });
}

/** Blobs up to this size go in one PUT; bigger ones in PATCH chunks of this size, then a closing PUT. */
export const CHUNK_SIZE = 16 << 20;

export interface PushBlobOptions {
  /** A repository (same registry) known to hold the blob: asked to mount it first (no upload). */
  mountFrom?: string;
  /** Chunk size for big blobs (default CHUNK_SIZE). */
  chunkSize?: number;
}

/**
 * Uploads one blob unless the repository has it (HEAD first). With `mountFrom`, a
 * cross-repository mount is asked for (`POST ?mount=&from=`): 201 means done, a 202 is an
 * ordinary upload session the upload continues in. Blobs up to the chunk size go in one PUT
 * with `?digest=`; bigger ones in PATCH chunks (Content-Range), each following the Location
 * the registry returns, then an empty PUT with the digest. The registry verifies the digest;
 * `open` is called again for every attempt and chunk (with the byte range wanted).
 */
export async function pushBlob(
  t: Transport,
  ref: Reference,
  desc: Descriptor,
  open: (range?: { start: number; end: number }) => NodeJS.ReadableStream | Buffer,
  opts: PushBlobOptions = {},
): Promise<'exists' | 'mounted' | 'pushed'> {
  const blobPath = `/v2/${ref.path}/blobs/${desc.digest}`;
  const head = await t.send(ref, { method: 'HEAD', path: blobPath, push: true });
  await discard(head.body);
  if (head.status === 200) return 'exists';
  const what = `pushing ${desc.digest} to ${formatReference(ref)}`;
  const mount = opts.mountFrom && opts.mountFrom !== ref.path ? `?mount=${encodeURIComponent(desc.digest)}&from=${encodeURIComponent(opts.mountFrom)}` : '';
  const start = await t.send(ref, { method: 'POST', path: `/v2/${ref.path}/blobs/uploads/${mount}`, push: true, headers: { 'content-length': '0' } });
  if (mount && start.status === 201) {
    await discard(start.body);
    return 'mounted';
  }
  if (start.status !== 202) throw await failure(what, start);
  await discard(start.body);
  let location = locationOf(start, what);
  const chunk = opts.chunkSize ?? CHUNK_SIZE;
  if (desc.size > chunk) {
    for (let offset = 0; offset < desc.size; offset += chunk) {
      const end = Math.min(desc.size, offset + chunk) - 1;
      const patch = await t.send(ref, {
        method: 'PATCH',
        path: location.toString(),
        push: true,
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(end - offset + 1), 'content-range': `${offset}-${end}` },
        body: () => open({ start: offset, end }),
      });
      if (patch.status !== 202) throw await failure(`${what} (bytes ${offset}-${end})`, patch);
      await discard(patch.body);
      location = locationOf(patch, what);
    }
    location.searchParams.set('digest', desc.digest);
    const done = await t.send(ref, { method: 'PUT', path: location.toString(), push: true, headers: { 'content-length': '0' } });
    if (done.status !== 201 && done.status !== 204) throw await failure(what, done);
    await discard(done.body);
    return 'pushed';
  }
  location.searchParams.set('digest', desc.digest);
  const put = await t.send(ref, {
    method: 'PUT',
    path: location.toString(),
    push: true,
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(desc.size) },
    body: () => open(),
  });
  if (put.status !== 201 && put.status !== 204) throw await failure(what, put);
  await discard(put.body);
  return 'pushed';
}

function locationOf(res: { headers: Record<string, string | string[] | undefined>; url: string }, what: string): URL {
  const loc = res.headers.location;
  const location = Array.isArray(loc) ? loc[0] : loc;
  if (!location) throw new KilnError(`${what}: the registry gave no upload location`, { kind: 'runtime' });
  return new URL(location, res.url);
}

/** PUT of a manifest or index under `reference` (a tag, or its digest). */
export async function putManifest(t: Transport, ref: Reference, mediaType: string, bytes: Uint8Array, reference: string): Promise<void> {
  const res = await t.send(ref, {
    method: 'PUT',
    path: `/v2/${ref.path}/manifests/${reference}`,
    push: true,
    headers: { 'content-type': mediaType, 'content-length': String(bytes.byteLength) },
    body: () => Buffer.from(bytes),
  });
  if (res.status !== 201 && res.status !== 200 && res.status !== 204) throw await failure(`pushing the manifest of ${formatReference(ref)}`, res);
  await discard(res.body);
}
