import { createReadStream } from 'node:fs';
import { Transform } from 'node:stream';
import type { RegistryClient } from '../registry/index.ts';
import type { Store } from '../store/index.ts';
import { parseReference } from '../oci/reference.ts';
import { contentReader, walkImage } from '../store/image-walk.ts';
import type { Digest } from '../util/digest.ts';
import { KilnError } from '../util/errors.ts';

/**
 * Pushes the local image store's `name` to its registry: every config and layer the
 * registry lacks, then each manifest by digest (children before their index), the top one
 * under the name's tag. Returns the pushed digest.
 */
export async function pushImage(
  store: Store,
  registry: RegistryClient,
  name: string,
  log: (line: string) => void = () => {},
  transfer?: (id: string, name: string, total?: number) => { add(n: number): void; done(): void },
): Promise<string> {
  const rec = store.images.get(name);
  if (!rec) throw new KilnError(`no image ${name} in the local store`, { kind: 'usage', hint: 'kiln image ls lists them' });
  const ref = parseReference(name);
  const g = await walkImage(rec.target, contentReader(store.content));
  const missing = [...g.missing, ...(await Promise.all(g.leaves.map(async (l) => ((await store.content.has(l.digest as Digest)) ? [] : [l.digest])))).flat()];
  if (missing.length) throw new KilnError(`image ${name}: blob ${missing[0]} is not in the content store`, { kind: 'input', hint: 'kiln doctor --store' });
  for (const b of g.leaves) {
    // A blob pulled from another repository of the same registry is mounted, not uploaded.
    const origin = store.meta.get(`blob-origin:${b.digest}`);
    const mountFrom = origin?.startsWith(`${ref.domain}/`) ? origin.slice(ref.domain.length + 1) : undefined;
    const path = store.content.path(b.digest as Digest);
    const t = transfer?.(`push ${name} ${b.digest}`, `pushing ${b.digest.slice(0, 19)}`, b.size);
    const counted = (stream: NodeJS.ReadableStream) =>
      t
        ? stream.pipe(
            new Transform({
              transform(c: Buffer, _e, cb) {
                t.add(c.byteLength);
                cb(null, c);
              },
            }),
          )
        : stream;
    const r = await registry.pushBlob(ref, b, (range) => counted(createReadStream(path, range)), { mountFrom });
    t?.done();
    log(`${b.digest.slice(7, 19)}: ${r === 'exists' ? 'already exists' : r === 'mounted' ? `mounted from ${mountFrom}` : 'pushed'}`);
  }
  for (const n of g.nodes) await registry.putManifest(ref, n.mediaType, n.bytes, n.digest === rec.target.digest ? (ref.tag ?? n.digest) : n.digest);
  return rec.target.digest;
}
