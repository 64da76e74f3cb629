import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { pack } from 'tar-stream';
import { resolveStateDir, type Store } from '../store/index.ts';
import { openStoreAfterCrash } from './open-store.ts';
import { loadConfig, registryOptions } from './config.ts';
import { registryClientFor } from './registry-client.ts';
import { pushImage } from './image-push.ts';
import { isKeptLayer, materializeKeptLayer } from './kept-layers.ts';
import { loadImageArchive } from '../store/image-load.ts';
import { contentReader, walkImage } from '../store/image-walk.ts';
import { familiarImageName, normalizeImageName } from '../exporter/image-name.ts';
import { usageError, KilnError } from '../util/errors.ts';
import { formatBytes } from '../util/units.ts';
import { tempName } from '../util/fs.ts';
import { DOCKER_CONFIG, DOCKER_LAYER, DOCKER_LAYER_GZIP, DOCKER_MANIFEST, OCI_CONFIG, OCI_INDEX, OCI_LAYER, OCI_LAYER_GZIP, OCI_MANIFEST } from '../oci/media-types.ts';
import { sha256 } from '../util/digest.ts';
import type { Digest } from '../util/digest.ts';

export interface ImageFlags {
  root?: string;
  config?: string;
  output?: string;
  input?: string;
}

const USAGE = 'kiln image load [-i] FILE|- | ls | rm NAME... | tag SOURCE TARGET | push NAME | save NAME... -o FILE|-';

async function withStore<T>(flags: ImageFlags, fn: (store: Store) => Promise<T>): Promise<T> {
  const root = resolveStateDir(flags.root, process.env, (await loadConfig(flags.config)).root);
  const store = await openStoreAfterCrash(root);
  try {
    return await fn(store);
  } finally {
    await store.settle().catch(() => {});
    store.close();
  }
}

/** A name in the store, or a usage error naming what is there. */
function recordOf(store: Store, name: string) {
  const rec = store.images.get(normalizeImageName(name));
  if (!rec) throw new KilnError(`no image ${name} in the local store`, { kind: 'usage', hint: 'kiln image ls lists them' });
  return rec;
}

/** Bytes of the configs and layers an image reaches (each once). */
async function imageSize(store: Store, target: { digest: string; mediaType: string }): Promise<number> {
  const g = await walkImage(target, contentReader(store.content));
  return g.leaves.reduce((n, l) => n + l.size, 0);
}

/** `kiln image load|ls|rm|tag|save`: the local image store, for air-gapped builds. */
export async function runImageCommand(action: string | undefined, args: string[], flags: ImageFlags): Promise<void> {
  switch (action) {
    case 'load': {
      const file = flags.input ?? args[0];
      if (!file) throw usageError('kiln image load needs an archive', 'kiln image load FILE (a docker save or OCI archive; - for stdin)');
      await withStore(flags, async (store) => {
        const input = file === '-' ? process.stdin : createReadStream(file);
        const loaded = await loadImageArchive(store, input);
        for (const l of loaded) process.stdout.write(l.name ? `Loaded image: ${familiarImageName(l.name)}\n` : `Loaded image ID: ${l.target.digest}\n`);
      });
      return;
    }
    case 'ls':
    case 'list': {
      await withStore(flags, async (store) => {
        process.stdout.write(`${'NAME'.padEnd(48)} ${'DIGEST'.padEnd(19)} ${'SIZE'.padStart(9)}  CREATED\n`);
        for (const r of store.images.list()) {
          const created = new Date(r.createdAt).toISOString().slice(0, 19).replace('T', ' ');
          process.stdout.write(`${familiarImageName(r.name).padEnd(48)} ${r.target.digest.slice(0, 19)} ${formatBytes(await imageSize(store, r.target)).padStart(9)}  ${created}\n`);
        }
      });
      return;
    }
    case 'rm':
    case 'remove': {
      if (!args.length) throw usageError('kiln image rm needs a name', USAGE);
      await withStore(flags, async (store) => {
        for (const name of args) {
          recordOf(store, name);
          store.images.remove(normalizeImageName(name));
          process.stdout.write(`Untagged: ${familiarImageName(normalizeImageName(name))}\n`);
        }
      });
      return;
    }
    case 'tag': {
      if (args.length !== 2) throw usageError('kiln image tag needs SOURCE and TARGET', USAGE);
      await withStore(flags, async (store) => {
        store.images.put(normalizeImageName(args[1]!), recordOf(store, args[0]!).target);
      });
      return;
    }
    case 'push': {
      if (args.length !== 1) throw usageError('kiln image push needs one name', USAGE);
      const cfg = await loadConfig(flags.config);
      await withStore(flags, async (store) => {
        const registry = registryClientFor({ registry: registryOptions(cfg) });
        try {
          const name = normalizeImageName(args[0]!);
          const digest = await pushImage(store, registry, name, (l) => process.stdout.write(`${l}\n`));
          process.stdout.write(`${familiarImageName(name)}: digest: ${digest}\n`);
        } finally {
          await registry.close();
        }
      });
      return;
    }
    case 'save': {
      if (!args.length || !flags.output) throw usageError('kiln image save needs names and -o FILE', USAGE);
      await withStore(flags, (store) => saveImages(store, args, flags.output!));
      return;
    }
    default:
      throw usageError(action ? `unknown image command "${action}"` : 'kiln image needs a command', USAGE);
  }
}

/**
 * Writes an OCI archive of the named images that `docker load` also reads (index.json
 * with the names, and a docker manifest.json for single-platform images), to FILE or stdout.
 */
async function saveImages(store: Store, names: string[], dest: string): Promise<void> {
  const recs = names.map((n) => ({ name: normalizeImageName(n), rec: recordOf(store, n) }));
  const blobs = new Set<string>();
  const index = { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] as unknown[] };
  const dockerManifest: { Config: string; RepoTags: string[]; Layers: string[] }[] = [];
  const extra = new Map<string, Buffer>();
  for (const { name, rec } of recs) {
    const tag = name.slice(name.lastIndexOf(':') + 1);
    const bytes = await store.content.read(rec.target.digest as Digest);
    const doc = JSON.parse(new TextDecoder().decode(bytes)) as { mediaType?: string; config?: { digest: string; mediaType: string }; layers?: { digest: string; mediaType: string }[] };
    let target = rec.target;
    if (rec.target.mediaType === DOCKER_MANIFEST) {
      // OCI tools read only OCI manifests from an OCI layout: write an OCI-typed twin (same config, same layers).
      const twin = Buffer.from(JSON.stringify(toOciManifest(doc)));
      const digest = sha256(twin);
      extra.set(digest.slice(7), twin);
      target = { mediaType: OCI_MANIFEST, digest, size: twin.byteLength } as typeof target;
    }
    index.manifests.push({ ...target, annotations: { 'io.containerd.image.name': name, 'org.opencontainers.image.ref.name': tag } });
    if (doc.config && doc.layers) {
      const p = (d: string) => `blobs/sha256/${d.replace(/^sha256:/, '')}`;
      dockerManifest.push({ Config: p(doc.config.digest), RepoTags: [familiarImageName(name)], Layers: doc.layers.map((l) => p(l.digest)) });
    }
  }
  // The blobs these names reach (layers kept as snapshots written out uncompressed first, as docker save writes them).
  for (const { rec } of recs) {
    const g = await walkImage(rec.target, contentReader(store.content));
    if (g.missing.length) throw new KilnError(`image ${rec.name}: ${g.missing[0]} is not in the content store`, { kind: 'input', hint: 'kiln doctor --store' });
    for (const l of g.leaves) if (await isKeptLayer(store, l.digest)) await materializeKeptLayer(store, l.digest as Digest);
    for (const d of [...g.nodes.map((n) => n.digest), ...g.leaves.map((l) => l.digest)]) blobs.add(d.replace(/^sha256:/, ''));
  }
  const p = pack();
  const out = dest === '-' ? process.stdout : createWriteStream(tempName(dest));
  const written = pipeline(p as unknown as NodeJS.ReadableStream, out);
  const entry = (name: string, body: string | Buffer) =>
    new Promise<void>((res, rej) => p.entry({ name, mode: 0o644, mtime: new Date(0) }, body, (err) => (err ? rej(err) : res())));
  await entry('oci-layout', '{"imageLayoutVersion":"1.0.0"}');
  await entry('index.json', JSON.stringify(index));
  if (dockerManifest.length === recs.length) await entry('manifest.json', JSON.stringify(dockerManifest));
  for (const [hex, bytes] of extra) if (!blobs.has(hex)) await entry(`blobs/sha256/${hex}`, bytes);
  for (const hex of [...blobs].sort()) {
    const path = store.content.path(`sha256:${hex}` as Digest);
    const size = await store.content.size(`sha256:${hex}` as Digest);
    await new Promise<void>((res, rej) => {
      const e = p.entry({ name: `blobs/sha256/${hex}`, size, mode: 0o644, mtime: new Date(0) }, (err) => (err ? rej(err) : res()));
      createReadStream(path).on('error', rej).pipe(e as unknown as NodeJS.WritableStream);
    });
  }
  p.finalize();
  try {
    await written;
    if (dest !== '-') await rename((out as unknown as { path: string }).path, dest);
  } catch (err) {
    if (dest !== '-') await rm((out as unknown as { path: string }).path, { force: true });
    throw err;
  }
}

/** A Docker schema 2 manifest with OCI media types: the same config and layer bytes, another digest. */
function toOciManifest(doc: { config?: { mediaType: string }; layers?: { mediaType: string }[] }): unknown {
  const layerType = (t: string) => (t === DOCKER_LAYER_GZIP ? OCI_LAYER_GZIP : t === DOCKER_LAYER ? OCI_LAYER : t);
  return {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { ...doc.config, mediaType: doc.config?.mediaType === DOCKER_CONFIG ? OCI_CONFIG : doc.config?.mediaType },
    layers: (doc.layers ?? []).map((l) => ({ ...l, mediaType: layerType(l.mediaType) })),
  };
}
