import { writeFile } from 'node:fs/promises';
import { openStoreAfterCrash } from './open-store.ts';
import { registryClientFor } from './registry-client.ts';
import { createImageResolver } from '../source/image-resolver.ts';
import { createImageSource } from '../source/image.ts';
import { createLocalSource } from '../source/local.ts';
import { createHttpSource } from '../source/http.ts';
import { createGitSource } from '../source/git.ts';
import { solve } from '../solver/solve.ts';
import { checkEntitlements } from '../solver/entitlements.ts';
import { createSourceOp } from '../solver/ops/source.ts';
import { createExecOp } from '../solver/ops/exec.ts';
import { createFileOp } from '../solver/ops/file.ts';
import { createMergeOp } from '../solver/ops/merge.ts';
import type { OpResolvers } from '../solver/types.ts';
import { hostPlatform } from '../oci/platform.ts';
import { KilnError } from '../util/errors.ts';
import type { ProgressSink } from '../progress/events.ts';
import type { Frontend, FrontendResult } from '../frontend/api.ts';
import type { ImageResolver } from '../source/image-resolver.ts';
import type { BuildRequest } from './request.ts';
import type { Store } from '../store/index.ts';
import { otherProcesses, prune, type GcPolicy } from '../store/gc.ts';
import { diskOf } from './config.ts';
import { createFrontendContext } from './frontend-context.ts';
import { imageOfRef, openRootfsView } from './result-image.ts';
import { exporterFor } from './exporters.ts';
import { buildImageBlobs } from '../exporter/index.ts';
import type { ExportResult } from '../exporter/types.ts';
import { sharedWorkerPool } from '../solver/worker-pool.ts';
import { memoChecksum, prefetchContext } from './context-prefetch.ts';
import { createImageStoreExporter } from './image-output.ts';
import { pushImage } from './image-push.ts';
import { normalizeImageName } from '../exporter/image-name.ts';
import { resolveLocalImage } from '../source/image-local.ts';
import { importOciLayoutDir } from '../store/image-load.ts';

export interface BuildOutcome {
  ran: number;
  cached: number;
  exports: ExportResult[];
  imageId?: string;
}

/** The frontends kiln ships, by name. */
export async function loadFrontend(name: string): Promise<Frontend> {
  if (name === 'dockerfile.v0' || name === 'dockerfile') return (await import('../frontend/dockerfile/index.ts')).default;
  throw new KilnError(`unknown frontend "${name}"`, { kind: 'usage', hint: 'kiln ships dockerfile.v0' });
}

/** Runs the request's frontend: the LLB definition and image config, nothing solved. */
export async function runFrontend(req: BuildRequest, resolver: ImageResolver, progress: ProgressSink): Promise<FrontendResult> {
  const frontend = await loadFrontend(req.frontend);
  const ctx = createFrontendContext(req, resolver, (w) =>
    progress.emit({ type: 'warning', message: w.location && !w.rule ? `${w.message} (${w.location.file}:${w.location.startLine})` : w.message, time: Date.now() }),
  );
  return frontend.build(ctx);
}

/**
 * GC after a build, by the config file's policies (BuildKit's defaults unless set). Skipped
 * while another kiln process uses the state dir: what a running build uses is never removed.
 */
async function autoGc(store: Store, policies: GcPolicy[], progress: ProgressSink): Promise<void> {
  if (otherProcesses(store.db).length) return;
  const started = Date.now();
  const r = await prune(store.db, store.layout, { policies, freeBytes: async () => (await diskOf(store.layout.root)).free });
  if (r.records || r.cacheMounts || r.snapshots || r.blobs) {
    progress.emit({ type: 'info', message: `gc: removed ${r.records} cache records, ${r.cacheMounts} cache mounts, ${r.snapshots} snapshots, ${r.blobs} blobs in ${Date.now() - started} ms`, time: Date.now() });
  }
}

/** Runs one build: frontend → solve → exporters. The composition root of kiln's layers. */
export async function runBuild(req: BuildRequest, progress: ProgressSink, signal: AbortSignal): Promise<BuildOutcome> {
  const fileOutputs = req.outputs.filter((o) => o.type !== 'image');
  const exporters = fileOutputs.map(exporterFor);
  const store = await openStoreAfterCrash(req.root, req.runtime);
  // type=image (and -t alone, as docker build) → the local image store.
  const pushes: string[] = [];
  for (const o of req.outputs.filter((x) => x.type === 'image')) {
    const names = (o.attrs.name ?? '').split(',').filter(Boolean);
    exporters.push(createImageStoreExporter(store, names));
    if (o.attrs.push === 'true') pushes.push(...(names.length ? names : req.tags).map(normalizeImageName));
  }
  if (req.outputs.length === 0 && req.tags.length) exporters.push(createImageStoreExporter(store, []));
  const pool = sharedWorkerPool();
  const checksum = memoChecksum((dir, filter) => pool.run('checksumTree', dir, filter));
  void prefetchContext(req, checksum, store.layout.contextIndex); // on a worker, while the frontend runs
  try {
    const registry = registryClientFor(req);
    // oci-layout:// contexts: their blobs into the content store, then read as pinned images (no registry).
    for (const l of req.ociLayouts) {
      const desc = await importOciLayoutDir(store, l.dir, l.ref);
      req.opts[`context:${l.name}`] = `docker-image://oci-layout.invalid/${l.name.toLowerCase().replace(/[^a-z0-9._-]/g, '-')}@${desc.digest}`;
    }
    const resolver = createImageResolver(registry, { local: (ref, platform) => resolveLocalImage(store, ref, platform), pull: req.pull });
    const result = await runFrontend(req, resolver, progress);
    checkEntitlements(result.definition, req.allow);
    const ops: OpResolvers = {
      source: createSourceOp({
        'docker-image': createImageSource(resolver, hostPlatform()),
        local: createLocalSource(req.locals, checksum, store.layout.contextIndex),
        https: createHttpSource(),
        http: createHttpSource(),
        git: createGitSource(),
      }),
      exec: createExecOp({ runtime: req.runtime, maxParallelism: req.maxParallelism, defaultNetwork: req.network, secrets: (id) => req.secrets.get(id), ssh: (id) => req.ssh.get(id) }),
      file: createFileOp(
        (a, o) => pool.run('copyFiles', a, o),
        (from, to) => pool.run('cloneLayer', from, to),
      ),
      merge: createMergeOp(),
      diff: () => {
        throw new KilnError('diff ops are not supported yet', { kind: 'input' });
      },
    };
    const solved = await solve(result.definition, { store, ops, progress, signal, noCache: req.noCache });
    const exportAll = async (): Promise<BuildOutcome> => {
      const outcome: BuildOutcome = { ran: solved.ran.length, cached: solved.cached.length, exports: [] };
      if (exporters.length === 0 && !req.iidfile && req.progress !== 'quiet') {
        progress.emit({ type: 'warning', message: 'no output specified: the result stays in the build cache (use -o type=oci,dest=FILE or another output)', time: Date.now() });
        return outcome;
      }
      const image = await imageOfRef(store, solved.ref, result.config, new Date(), (dir, dest, o) => pool.run('createLayerBlob', dir, dest, o));
      outcome.imageId = buildImageBlobs(image).config.descriptor.digest;
      for (const ex of exporters) {
        const started = Date.now();
        const r = await ex.export({ image, names: req.tags, openRootfs: () => openRootfsView(store, solved.ref) });
        progress.emit({ type: 'info', message: `exported ${ex.kind}${r.dest ? ` to ${r.dest}` : ''}${r.manifestDigest ? ` (${r.manifestDigest})` : ''} in ${((Date.now() - started) / 1000).toFixed(1)}s`, time: Date.now() });
        outcome.exports.push(r);
      }
      if (req.iidfile && outcome.imageId) await writeFile(req.iidfile, outcome.imageId);
      return outcome;
    };
    const outcome = await exportAll();
    for (const name of pushes) {
      const started = Date.now();
      const digest = await pushImage(store, registry, name);
      progress.emit({ type: 'info', message: `pushed ${name} (${digest}) in ${((Date.now() - started) / 1000).toFixed(1)}s`, time: Date.now() });
    }
    if (req.gc) await autoGc(store, req.gc, progress);
    return outcome;
  } finally {
    pool.close();
    store.close();
  }
}
