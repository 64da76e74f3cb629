/**
 * Cache import and export for a build: maps `type=` names to the backends of src/cache and
 * reports through the build's progress. An import that cannot be read is a warning (the build
 * runs without it, as BuildKit's); an export that fails fails the build unless `ignore-error`.
 */
import type { RegistryClient } from '../registry/index.ts';
import type { Store } from '../store/index.ts';
import type { ProgressSink } from '../progress/events.ts';
import type { Platform } from '../oci/platform.ts';
import { parseReference } from '../oci/reference.ts';
import { errorMessage, KilnError } from '../util/errors.ts';
import type { ImportedCache } from '../solver/types.ts';
import { loadRegistryCache } from '../cache/registry.ts';
import { loadLocalCache } from '../cache/local.ts';
import { importedCache } from '../cache/imported.ts';
import type { LoadedCache, Transfer } from '../cache/loaded.ts';
import { planCacheExport, type CacheMode } from '../cache/plan.ts';
import { cacheDocument, type LayerBlobOf } from '../cache/document.ts';
import { cacheArtifact, type CacheArtifact } from '../cache/artifact.ts';
import { writeLayoutDir } from '../exporter/layout-dir.ts';
import { blobPath, type LayoutRecord } from '../exporter/layout.ts';
import { ANNOTATION_REF_NAME } from '../oci/media-types.ts';
import type { Reference } from '../oci/reference.ts';
import { pushBlobFile } from './image-push.ts';
import type { OutputSpec } from './request.ts';
import { boolAttr, imageOptions } from './image-options.ts';

const info = (progress: ProgressSink, message: string) => progress.emit({ type: 'info', message, time: Date.now() });
const warn = (progress: ProgressSink, message: string) => progress.emit({ type: 'warning', message, time: Date.now() });

/** Reads every import's records (no layer is downloaded here): the lookup the solver asks on a local miss. */
export async function loadCacheImports(specs: OutputSpec[], d: { store: Store; registry: RegistryClient; platforms: Platform[]; progress: ProgressSink }): Promise<ImportedCache | undefined> {
  if (!specs.length) return undefined;
  const loaded = await Promise.all(
    specs.map(async (spec): Promise<LoadedCache[]> => {
      const where = spec.type === 'registry' ? spec.attrs.ref! : spec.attrs.src!;
      const started = Date.now();
      try {
        const caches = spec.type === 'registry'
          ? await loadRegistryCache(d.registry, d.store, parseReference(spec.attrs.ref!), d.platforms)
          : await loadLocalCache(d.store, spec.attrs.src!, { tag: spec.attrs.tag, digest: spec.attrs.digest });
        const records = caches.reduce((n, c) => n + c.records.length, 0);
        if (!records) warn(d.progress, `importing cache from ${where}: it holds no kiln cache records`);
        else info(d.progress, `importing cache manifest from ${where}: ${records} records in ${((Date.now() - started) / 1000).toFixed(1)}s`);
        return caches;
      } catch (err) {
        warn(d.progress, `importing cache from ${where} failed, building without it: ${errorMessage(err)}`);
        return [];
      }
    }),
  );
  return importedCache(d.store, loaded.flat());
}

export interface CacheExportDeps {
  store: Store;
  registry: RegistryClient;
  progress: ProgressSink;
  transfer: Transfer;
  /** Every keyed step of the build. */
  keyed: Iterable<{ key: string; outputs: number }>;
  /** The results' snapshots (one per platform). */
  results: (string | null)[];
  /** A layer blob with these compression options. */
  layerBlob: (opts: ReturnType<typeof imageOptions>) => LayerBlobOf;
}

/** Runs each registry/local export (inline ones are part of the image config). */
export async function exportCaches(specs: OutputSpec[], d: CacheExportDeps): Promise<void> {
  for (const spec of specs) {
    if (spec.type === 'inline') continue;
    const where = spec.type === 'registry' ? spec.attrs.ref! : spec.attrs.dest!;
    const started = Date.now();
    try {
      const mode = (spec.attrs.mode ?? 'min') as CacheMode;
      const oci = boolAttr(spec, 'oci-mediatypes', true);
      const layerOpts = imageOptions({ type: spec.type, label: spec.label, attrs: pick(spec.attrs, ['compression', 'compression-level', 'force-compression']) });
      const planned = planCacheExport(d.store, d.keyed, d.results, mode);
      const { doc, paths } = await cacheDocument(planned, d.layerBlob(layerOpts));
      const art = cacheArtifact(doc, paths, { ociMediaTypes: oci, imageManifest: boolAttr(spec, 'image-manifest', oci) });
      if (spec.type === 'registry') await pushCache(d, parseReference(spec.attrs.ref!), art);
      else await writeCacheLayout(spec.attrs.dest!, art, spec.attrs.tag ?? 'latest');
      info(d.progress, `exported cache to ${where} (mode=${mode}: ${doc.records.length} records, ${doc.layers.length} layers, ${art.top.digest}) in ${((Date.now() - started) / 1000).toFixed(1)}s`);
    } catch (err) {
      if (!boolAttr(spec, 'ignore-error', false)) throw new KilnError(`exporting cache to ${where}: ${errorMessage(err)}`, { kind: err instanceof KilnError ? err.kind : 'runtime', hint: err instanceof KilnError ? err.hint : undefined, cause: err });
      warn(d.progress, `exporting cache to ${where} failed (ignore-error=true): ${errorMessage(err)}`);
    }
  }
}

/** The artifact's blobs the repository lacks (layers as images push them), then its manifest under the ref's tag (default `latest`). */
async function pushCache(d: CacheExportDeps, ref: Reference, art: CacheArtifact): Promise<void> {
  await Promise.all(
    art.blobs.map(({ desc, bytes }) =>
      bytes ? d.registry.pushBlob(ref, desc, (range) => Buffer.from(range ? bytes.subarray(range.start, range.end + 1) : bytes)) : pushBlobFile(d.store, d.registry, ref, desc, d.transfer, 'push cache'),
    ),
  );
  await d.registry.putManifest(ref, art.top.mediaType, art.top.bytes, ref.tag ?? 'latest');
}

/** The artifact in an OCI layout directory (the oci exporter's writer: blobs first, index.json last), under `tag`; other tags are kept. */
async function writeCacheLayout(dir: string, art: CacheArtifact, tag: string): Promise<void> {
  const records: LayoutRecord[] = [...art.blobs, { desc: art.top, bytes: art.top.bytes, path: undefined }].map(({ desc, path, bytes }) =>
    bytes ? { name: blobPath(desc.digest), mode: 0o444, kind: 'bytes', bytes } : { name: blobPath(desc.digest), mode: 0o444, kind: 'blob', blob: { path: path!, digest: desc.digest, size: desc.size } },
  );
  await writeLayoutDir(dir, records, [{ mediaType: art.top.mediaType, digest: art.top.digest, size: art.top.size, annotations: { [ANNOTATION_REF_NAME]: tag } }]);
}

function pick(attrs: Record<string, string>, keys: string[]): Record<string, string> {
  return Object.fromEntries(keys.filter((k) => attrs[k] !== undefined).map((k) => [k, attrs[k]!]));
}
