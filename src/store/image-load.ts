import { extract, type Header } from 'tar-stream';
import { join, posix } from 'node:path';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { PassThrough, Readable, type Writable } from 'node:stream';
import { feedTar } from '../util/tar-end.ts';
import { KilnError } from '../util/errors.ts';
import { isDigest, type Digest } from '../util/digest.ts';
import type { Descriptor } from '../oci/types.ts';
import { parseImageIndex } from '../oci/types.ts';
import { OCI_CONFIG, OCI_LAYER, OCI_LAYER_GZIP, OCI_MANIFEST } from '../oci/media-types.ts';
import { formatReference, parseReference } from '../oci/reference.ts';
import type { Store } from './index.ts';
import { walkImage } from './image-walk.ts';

/** What `kiln image load` stored: the names given, or the digest of an unnamed image. */
export interface LoadedImage {
  name?: string;
  target: Descriptor;
}

const CONTAINERD_NAME = 'io.containerd.image.name';
const REF_NAME = 'org.opencontainers.image.ref.name';
const MAX_JSON = 16 << 20;

/** The first bytes of a stream, and the whole stream again. */
async function sniff(input: NodeJS.ReadableStream): Promise<{ head: Buffer; stream: Readable }> {
  const it = (input as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  const first = await it.next();
  const head = first.done ? Buffer.alloc(0) : Buffer.from(first.value);
  const rest = new PassThrough();
  void (async () => {
    try {
      rest.write(head);
      for (let r = await it.next(); !r.done; r = await it.next()) if (!rest.write(r.value)) await new Promise((res) => rest.once('drain', res));
      rest.end();
    } catch (err) {
      rest.destroy(err as Error);
    }
  })();
  return { head, stream: rest };
}

/** A full reference from an archive's name for an image, or undefined for a bare tag. */
function normalizeName(name: string | undefined): string | undefined {
  if (!name) return undefined;
  if (!name.includes('/') && !name.includes(':') && !name.includes('@')) return undefined; // a tag alone names no repository
  try {
    return formatReference(parseReference(name));
  } catch {
    return undefined;
  }
}

/**
 * Loads a `docker save` archive (the classic layout with manifest.json, or the OCI layout
 * that Docker 25+ writes) or an OCI archive (`skopeo copy ... oci-archive:`, kiln's
 * `-o type=oci`), plain or gzip-compressed, into the content store, and names its images.
 * Every blob under `blobs/sha256/` is verified against its name.
 */
export async function loadImageArchive(store: Store, input: NodeJS.ReadableStream): Promise<LoadedImage[]> {
  const { head, stream } = await sniff(input);
  if (head.length === 0) throw new KilnError('the image archive is empty (nothing on stdin?)', { kind: 'input' });
  const tar = head[0] === 0x1f && head[1] === 0x8b ? stream.pipe(createGunzip()) : stream;
  const json = new Map<string, Buffer>();
  const files = new Map<string, { digest: Digest; size: number; gzip: boolean }>();
  const links = new Map<string, string>();
  const ex = extract();
  const done = (async () => {
    for await (const entry of ex) {
      const h = entry.header as Header;
      const name = posix.normalize(h.name).replace(/^(\.\/)+|^\/+/, '');
      if (h.type === 'symlink' || h.type === 'link') {
        links.set(name, h.type === 'symlink' ? posix.normalize(posix.join(posix.dirname(name), h.linkname ?? '')) : posix.normalize(h.linkname ?? ''));
        entry.resume();
        continue;
      }
      if (h.type !== 'file') {
        entry.resume();
        continue;
      }
      const blob = /^blobs\/sha256\/([0-9a-f]{64})$/.exec(name);
      if (name.endsWith('.json') || name === 'oci-layout' || name === 'repositories') {
        const chunks: Buffer[] = [];
        let size = 0;
        for await (const c of entry) {
          size += (c as Buffer).length;
          if (size > MAX_JSON) throw new KilnError(`${name} in the archive is larger than ${MAX_JSON} bytes`, { kind: 'input' });
          chunks.push(c as Buffer);
        }
        const bytes = Buffer.concat(chunks);
        json.set(name, bytes);
        if (blob) await store.content.put(bytes); // legacy archives name configs <hex>.json
        continue;
      }
      const sniffed = await sniff(entry as unknown as NodeJS.ReadableStream);
      const put = await store.content.putStream(sniffed.stream, blob ? { digest: `sha256:${blob[1]}` as Digest, size: h.size } : undefined);
      files.set(name, { ...put, gzip: sniffed.head[0] === 0x1f && sniffed.head[1] === 0x8b });
    }
  })();
  tar.on('error', (err: Error) => ex.destroy(err));
  // Up to the end-of-archive marker, never further: /dev/zero is an empty archive, not a hang.
  const fed = feedTar(tar as Readable, ex as unknown as Writable);
  fed.catch(() => {});
  try {
    await Promise.all([done, fed]);
  } catch (err) {
    throw err instanceof KilnError ? err : new KilnError(`cannot read the image archive: ${(err as Error).message}`, { kind: 'input' });
  }
  const fileOf = (p: string) => {
    let path = posix.normalize(p);
    for (let i = 0; i < 10 && links.has(path); i++) path = links.get(path)!;
    return files.get(path);
  };

  const loaded: LoadedImage[] = [];
  const index = json.get('index.json');
  if (index) {
    for (const d of parseImageIndex(index, 'index.json of the archive').manifests) {
      if (!isDigest(d.digest) || !(await store.content.has(d.digest as Digest))) {
        throw new KilnError(`the archive's index.json names ${d.digest}, which the archive does not hold`, { kind: 'input' });
      }
      const target: Descriptor = { mediaType: d.mediaType, digest: d.digest, size: d.size } as Descriptor;
      const name = normalizeName(d.annotations?.[CONTAINERD_NAME]) ?? normalizeName(d.annotations?.[REF_NAME]);
      if (name) store.images.put(name, target);
      loaded.push({ name, target });
    }
    return loaded;
  }
  const manifest = json.get('manifest.json');
  if (!manifest) throw new KilnError('not an image archive: neither index.json (OCI) nor manifest.json (docker save) is in it', { kind: 'input' });
  const entries = JSON.parse(manifest.toString('utf8')) as { Config: string; RepoTags?: string[] | null; Layers: string[] }[];
  for (const e of entries) {
    const configBytes = json.get(posix.normalize(e.Config));
    if (!configBytes) throw new KilnError(`the archive's manifest.json names config ${e.Config}, which the archive does not hold`, { kind: 'input' });
    const config = await store.content.put(configBytes);
    const layers = e.Layers.map((l) => {
      const f = fileOf(l);
      if (!f) throw new KilnError(`the archive's manifest.json names layer ${l}, which the archive does not hold`, { kind: 'input' });
      return { mediaType: f.gzip ? OCI_LAYER_GZIP : OCI_LAYER, digest: f.digest, size: f.size };
    });
    // An OCI manifest (what every OCI tool reads; a classic docker save has no manifest of its own).
    const m = { schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: OCI_CONFIG, digest: config.digest, size: config.size }, layers };
    const put = await store.content.put(JSON.stringify(m));
    const target = { mediaType: OCI_MANIFEST, digest: put.digest, size: put.size } as Descriptor;
    const names = (e.RepoTags ?? []).map(normalizeName).filter((n): n is string => !!n);
    for (const n of names) store.images.put(n, target);
    if (names.length) names.forEach((name) => loaded.push({ name, target }));
    else loaded.push({ target });
  }
  return loaded;
}

/**
 * The index.json entry of the OCI layout directory `dir` that `ref` names: a tag
 * (`org.opencontainers.image.ref.name`, or containerd's name ending in `:TAG`), a digest (also
 * one index.json does not list), or '' for the only entry.
 */
export async function layoutEntry(dir: string, ref: string): Promise<Descriptor> {
  const what = `OCI layout ${dir}`;
  let indexBytes: Buffer;
  try {
    indexBytes = await readFile(join(dir, 'index.json'));
  } catch (err) {
    throw new KilnError(`${what}: cannot read index.json: ${(err as Error).message}`, { kind: 'input' });
  }
  const index = parseImageIndex(indexBytes, `${what}/index.json`);
  const pick = ref.startsWith('sha256:')
    ? index.manifests.find((d) => d.digest === ref) ?? ({ digest: ref, mediaType: '', size: 0 } as unknown as Descriptor)
    : ref
      ? index.manifests.find((d) => d.annotations?.[REF_NAME] === ref || d.annotations?.[CONTAINERD_NAME]?.endsWith(`:${ref}`))
      : index.manifests.length === 1
        ? index.manifests[0]
        : undefined;
  if (!pick) throw new KilnError(`${what}: no image ${ref ? `tagged ${ref}` : '(several, name one: oci-layout://DIR:TAG)'} in index.json`, { kind: 'input' });
  return pick;
}

/**
 * Copies the image that `ref` (a tag of the layout's index.json, a digest, or '' for the
 * only one) names in the OCI layout directory `dir` into the content store, every blob
 * verified; returns its descriptor. How `oci-layout://DIR[:TAG|@DIGEST]` contexts are read.
 */
export async function importOciLayoutDir(store: Store, dir: string, ref: string): Promise<Descriptor> {
  const what = `OCI layout ${dir}`;
  const pick = await layoutEntry(dir, ref);
  // Walk the image from the layout, copying each index/manifest as it is read, then the leaves.
  const copy = async (d: string, size?: number) => {
    if (!isDigest(d)) throw new KilnError(`${what}: bad digest ${d}`, { kind: 'input' });
    if (await store.content.has(d as Digest)) return;
    try {
      await store.content.putStream(createReadStream(join(dir, 'blobs', 'sha256', d.slice(7))), { digest: d as Digest, size: size || undefined });
    } catch (err) {
      throw err instanceof KilnError ? err : new KilnError(`${what}: ${(err as Error).message}`, { kind: 'input' });
    }
  };
  const g = await walkImage(pick, async (d) => {
    await copy(d);
    return store.content.read(d as Digest);
  });
  if (g.missing.length) throw new KilnError(`${what}: ${g.missing[0]} is not a manifest or index`, { kind: 'input' });
  for (const l of g.leaves) await copy(l.digest, l.size);
  const bytes = await store.content.read(pick.digest as Digest);
  const mediaType = pick.mediaType || (JSON.parse(new TextDecoder().decode(bytes)) as { mediaType?: string }).mediaType || '';
  return { mediaType, digest: pick.digest, size: bytes.byteLength } as Descriptor;
}
