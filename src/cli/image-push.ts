import { createReadStream } from 'node:fs';
import type { RegistryClient } from '../registry/index.ts';
import type { Store } from '../store/index.ts';
import { parseReference } from '../oci/reference.ts';
import type { Descriptor } from '../oci/types.ts';
import type { Digest } from '../util/digest.ts';
import { KilnError } from '../util/errors.ts';

interface Doc {
  mediaType?: string;
  manifests?: Descriptor[];
  config?: Descriptor;
  layers?: Descriptor[];
}

/**
 * Pushes the local image store's `name` to its registry: every blob the registry lacks
 * (config, layers; each manifest of an index), then the manifests by digest, then the
 * top one under the name's tag. Returns the pushed digest.
 */
export async function pushImage(store: Store, registry: RegistryClient, name: string, log: (line: string) => void = () => {}): Promise<string> {
  const rec = store.images.get(name);
  if (!rec) throw new KilnError(`no image ${name} in the local store`, { kind: 'usage', hint: 'kiln image ls lists them' });
  const ref = parseReference(name);
  const read = async (d: string) => {
    if (!(await store.content.has(d as Digest))) throw new KilnError(`image ${name}: blob ${d} is not in the content store`, { kind: 'input', hint: 'kiln doctor --store' });
    return store.content.read(d as Digest);
  };
  const pushManifest = async (desc: Descriptor, reference: string): Promise<void> => {
    const bytes = await read(desc.digest);
    const doc = JSON.parse(new TextDecoder().decode(bytes)) as Doc;
    for (const m of doc.manifests ?? []) await pushManifest(m, m.digest);
    for (const b of [doc.config, ...(doc.layers ?? [])]) {
      if (!b) continue;
      await read(b.digest).catch(() => undefined); // fails with a clear message when missing
      const r = await registry.pushBlob(ref, b, () => createReadStream(store.content.path(b.digest as Digest)));
      log(`${b.digest.slice(7, 19)}: ${r === 'exists' ? 'layer already exists' : 'pushed'}`);
    }
    await registry.putManifest(ref, desc.mediaType || doc.mediaType || '', bytes, reference);
  };
  await pushManifest(rec.target, ref.tag ?? rec.target.digest);
  return rec.target.digest;
}
