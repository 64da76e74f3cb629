import { createReadStream } from 'node:fs';
import type { RegistryClient } from '../registry/index.ts';
import type { Store } from '../store/index.ts';
import { parseReference, type Reference } from '../oci/reference.ts';
import type { Descriptor } from '../oci/types.ts';
import { mountSourceFor } from '../store/blob-origins.ts';
import { tap } from '../util/tap.ts';
import { contentReader, walkImage } from '../store/image-walk.ts';
import type { Digest } from '../util/digest.ts';
import { KilnError } from '../util/errors.ts';
import { distributableImage } from './kept-layers.ts';
import type { LayerWork } from './result-image.ts';

/**
 * Pushes the local image store's `name` to its registry: every config and layer the
 * registry lacks, then each manifest by digest (children before their index), the top one
 * under the name's tag. Layers the store keeps uncompressed as snapshots are compressed
 * first (kept-layers.ts) and the name then points at that form. Returns the pushed digest.
 */
export async function pushImage(
  store: Store,
  registry: RegistryClient,
  name: string,
  log: (line: string) => void = () => {},
  transfer?: (id: string, name: string, total?: number) => { add(n: number): void; done(): void },
  work?: LayerWork,
): Promise<string> {
  const stored = store.images.get(name);
  if (!stored) throw new KilnError(`no image ${name} in the local store`, { kind: 'usage', hint: 'kiln image ls lists them' });
  const target = await distributableImage(store, stored.target, work);
  if (target.digest !== stored.target.digest) store.images.put(name, target);
  const rec = { ...stored, target };
  const ref = parseReference(name);
  const g = await walkImage(rec.target, contentReader(store.content));
  const missing = [...g.missing, ...(await Promise.all(g.leaves.map(async (l) => ((await store.content.has(l.digest as Digest)) ? [] : [l.digest])))).flat()];
  if (missing.length) throw new KilnError(`image ${name}: blob ${missing[0]} is not in the content store`, { kind: 'input', hint: 'kiln doctor --store' });
  for (const b of g.leaves) {
    const { result, mountFrom } = await pushBlobFile(store, registry, ref, b, transfer, `push ${name}`);
    log(`${b.digest.slice(7, 19)}: ${result === 'exists' ? 'already exists' : result === 'mounted' ? `mounted from ${mountFrom}` : 'pushed'}`);
  }
  for (const n of g.nodes) await registry.putManifest(ref, n.mediaType, n.bytes, n.digest === rec.target.digest ? (ref.tag ?? n.digest) : n.digest);
  return rec.target.digest;
}

/**
 * Pushes one blob of the content store unless the repository has it; a blob pulled from
 * another repository of the same registry is mounted, not uploaded. Bytes are reported to
 * `transfer` (its id prefixed with `what`).
 */
export async function pushBlobFile(
  store: Store,
  registry: RegistryClient,
  ref: Reference,
  desc: Descriptor,
  transfer?: (id: string, name: string, total?: number) => { add(n: number): void; done(): void },
  what = 'push',
): Promise<{ result: 'exists' | 'mounted' | 'pushed'; mountFrom?: string }> {
  const mountFrom = mountSourceFor(store.meta, desc.digest, ref.domain);
  const path = store.content.path(desc.digest as Digest);
  const t = transfer?.(`${what} ${desc.digest}`, `pushing ${desc.digest.slice(0, 19)}`, desc.size);
  const open = (range?: { start: number; end: number }) => (t ? createReadStream(path, range).pipe(tap((c) => t.add(c.byteLength))) : createReadStream(path, range));
  const result = await registry.pushBlob(ref, desc, open, { mountFrom });
  t?.done();
  return { result, mountFrom };
}
