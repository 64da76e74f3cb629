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

/**
 * Uploads one blob unless the repository has it (HEAD first): POST an upload session, then
 * PUT the bytes with `?digest=` (monolithic, as docker push does for most layers). The
 * registry verifies the digest; `open` is called again for a retried attempt.
 */
export async function pushBlob(t: Transport, ref: Reference, desc: Descriptor, open: () => NodeJS.ReadableStream | Buffer): Promise<'exists' | 'pushed'> {
  const blobPath = `/v2/${ref.path}/blobs/${desc.digest}`;
  const head = await t.send(ref, { method: 'HEAD', path: blobPath, push: true });
  await discard(head.body);
  if (head.status === 200) return 'exists';
  const what = `pushing ${desc.digest} to ${formatReference(ref)}`;
  const start = await t.send(ref, { method: 'POST', path: `/v2/${ref.path}/blobs/uploads/`, push: true, headers: { 'content-length': '0' } });
  if (start.status !== 202) throw await failure(what, start);
  await discard(start.body);
  const loc = start.headers.location;
  const location = Array.isArray(loc) ? loc[0] : loc;
  if (!location) throw new KilnError(`${what}: the registry gave no upload location`, { kind: 'runtime' });
  const base = new URL(location, start.url);
  base.searchParams.set('digest', desc.digest);
  const put = await t.send(ref, {
    method: 'PUT',
    path: base.toString(),
    push: true,
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(desc.size) },
    body: open,
  });
  if (put.status !== 201 && put.status !== 204) throw await failure(what, put);
  await discard(put.body);
  return 'pushed';
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
