import { readFile, writeFile } from 'node:fs/promises';
import { openStoreAfterCrash } from './open-store.ts';
import { stateLayout } from '../store/state-dir.ts';
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
import { createDiffOp } from '../solver/ops/diff.ts';
import { createMergeOp } from '../solver/ops/merge.ts';
import type { OpResolvers, Ref } from '../solver/types.ts';
import { bytesReporter } from '../progress/events.ts';
import type { Definition } from '../llb/types.ts';
import { hostPlatform } from '../oci/platform.ts';
import { KilnError } from '../util/errors.ts';
import type { ProgressSink } from '../progress/events.ts';
import type { Frontend, FrontendResult } from '../frontend/api.ts';
import type { ImageResolver } from '../source/image-resolver.ts';
import type { BuildRequest } from './request.ts';
import type { Store } from '../store/index.ts';
import { otherProcesses, prune, type GcPolicy } from '../store/gc.ts';
import { diskOf } from './config.ts';
import { createFrontendContext, type FrontendSolve } from './frontend-context.ts';
import { solvedTree } from './file-tree.ts';
import { imageOfRef, openRootfsView } from './result-image.ts';
import { exporterFor } from './exporters.ts';
import { checkOutputKeys, imageOptions, imageOptionsKey, type ImageOptions } from './image-options.ts';
import { buildMetadata } from './build-metadata.ts';
import { resolveFrontend, runFrontendSafely, type LoadedFrontend } from './frontend-loader.ts';
import { provenanceInput } from './provenance-input.ts';
import { provenanceStatement } from '../exporter/provenance.ts';
import { readBuildFile } from './build-command.ts';
import type { Digest } from '../util/digest.ts';
import { createDockerLoadExporter, findDockerCli } from './load-docker.ts';
import type { ExportImage, ExportSource, Exporter } from '../exporter/types.ts';
import { buildImageBlobs } from '../exporter/index.ts';
import { exportBlobs } from '../exporter/multi-platform.ts';
import type { ExportResult } from '../exporter/types.ts';
import { sharedWorkerPool } from '../solver/worker-pool.ts';
import { memoChecksum, prefetchContext } from './context-prefetch.ts';
import { createImageStoreExporter } from './image-output.ts';
import { pushImage } from './image-push.ts';
import { normalizeImageName } from '../exporter/image-name.ts';
import { resolveLocalImage } from '../source/image-local.ts';
import { importOciLayoutDir } from '../store/image-load.ts';
import { exportCaches, loadCacheImports } from './cache-io.ts';
import { inlineCacheField } from '../cache/plan.ts';
import { layerBlob, type LayerWork } from './result-image.ts';

export interface BuildOutcome {
  ran: number;
  cached: number;
  exports: ExportResult[];
  imageId?: string;
}

/** The frontend kiln ships, or a plugin (frontend-loader.ts), for this request. */
export async function loadFrontend(req: BuildRequest): Promise<LoadedFrontend> {
  return resolveFrontend(req, await readBuildFile(req));
}

/** Runs the request's frontend: the LLB definition and image config, nothing solved. */
export async function runFrontend(req: BuildRequest, resolver: ImageResolver, progress: ProgressSink, solveFor?: FrontendSolve, loading = loadFrontend(req)): Promise<FrontendResult> {
  const loaded = await loading;
  const ctx = createFrontendContext(
    req,
    resolver,
    (w) => progress.emit({ type: 'warning', message: w.location && !w.rule ? `${w.message} (${w.location.file}:${w.location.startLine})` : w.message, time: Date.now() }),
    { solve: solveFor, progress: (message) => progress.emit({ type: 'info', message: `${loaded.label}: ${message}`, time: Date.now() }) },
  );
  return runFrontendSafely(loaded, ctx);
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

/** The machine's dirty page-cache bytes (/proc/meminfo), 0 where unknown. */
async function dirtyBytes(): Promise<number> {
  const m = /^Dirty:\s+(\d+) kB$/m.exec(await readFile('/proc/meminfo', 'utf8').catch(() => ''));
  return m ? Number(m[1]) * 1024 : 0;
}

/**
 * Waits for the build's files to reach the disk (store/unsynced.ts; begun after the solve). When
 * that takes more than a moment it is a progress row of its own, with the bytes written back.
 */
async function syncWithRow(store: Store, transfer: (id: string, name: string, total?: number) => { add(n: number): void; done(): void }): Promise<void> {
  const syncing = store.unsynced.sync();
  // The timer is cleared, never left to hold the process open after a quick sync (it cost every build 0.1 s).
  let timer: ReturnType<typeof setTimeout> | undefined;
  const quick = await Promise.race([syncing.then(() => true), new Promise<false>((r) => (timer = setTimeout(() => r(false), 100)))]);
  clearTimeout(timer);
  if (quick) return;
  const before = await dirtyBytes();
  const row = transfer('sync', 'writing the layers to disk', before || undefined);
  row.add(0);
  await syncing;
  row.add(Math.max(0, before - (await dirtyBytes())));
  row.done();
}

/** Runs one build: frontend → solve → exporters. The composition root of kiln's layers. */
export async function runBuild(req: BuildRequest, progress: ProgressSink, signal: AbortSignal): Promise<BuildOutcome> {
  const startedOn = new Date();
  const epoch = req.buildArgs.SOURCE_DATE_EPOCH;
  const planned: { exporter: Exporter; image: ImageOptions; isImage: boolean }[] = [];
  for (const o of req.outputs) {
    checkOutputKeys(o);
    if (o.type === 'cacheonly' || o.type === 'image' || o.type === 'registry') continue;
    const image = imageOptions(o, epoch);
    planned.push({ exporter: exporterFor(o, image), image, isImage: o.type === 'oci' || o.type === 'docker' });
  }
  if (req.load) planned.push({ exporter: createDockerLoadExporter(findDockerCli()), image: imageOptions({ type: 'docker', attrs: {} }, epoch), isImage: true });
  // The context's checksum starts first, on a worker, while the store opens and the frontend runs.
  const pool = sharedWorkerPool();
  const contextRead = new Map<string, number>();
  const checksum = memoChecksum(async (dir, filter) => {
    const r = await pool.run('checksumTree', dir, filter);
    contextRead.set(dir, (contextRead.get(dir) ?? 0) + r.bytesRead);
    return r.digest;
  });
  void prefetchContext(req, checksum, stateLayout(req.root).contextIndex);
  // The build file is read and the frontend's code loaded while the store opens.
  const frontendLoading = loadFrontend(req);
  frontendLoading.catch(() => {}); // awaited (and its error thrown) by runFrontend
  let store: Store;
  try {
    store = await openStoreAfterCrash(req.root, req.runtime);
  } catch (err) {
    pool.close();
    throw err;
  }
  // type=image|registry (and -t alone, as docker build) → the local image store; push=true (registry) pushes.
  const pushes: string[] = [];
  for (const o of req.outputs.filter((x) => x.type === 'image' || x.type === 'registry')) {
    const names = (o.attrs.name ?? '').split(',').filter(Boolean);
    const image = imageOptions(o, epoch);
    planned.push({ exporter: createImageStoreExporter(store, names, { ociMediaTypes: image.ociMediaTypes }), image, isImage: true });
    if (o.attrs.push === 'true' || (o.type === 'registry' && o.attrs.push !== 'false')) pushes.push(...(names.length ? names : req.tags).map(normalizeImageName));
  }
  const defaultImage = imageOptions({ type: 'image', attrs: {} }, epoch);
  if (req.outputs.length === 0 && req.tags.length) planned.push({ exporter: createImageStoreExporter(store, []), image: defaultImage, isImage: true });
  try {
    const registry = registryClientFor(req, signal);
    // oci-layout:// contexts: their blobs into the content store, then read as pinned images (no registry).
    for (const l of req.ociLayouts) {
      const desc = await importOciLayoutDir(store, l.dir, l.ref);
      req.opts[`context:${l.name}`] = `docker-image://oci-layout.invalid/${l.name.toLowerCase().replace(/[^a-z0-9._-]/g, '-')}@${desc.digest}`;
    }
    const resolver = createImageResolver(registry, { local: (ref, platform) => resolveLocalImage(store, ref, platform), pull: req.pull });
    // Stall limits and attempts of every download ([network] in kiln.toml).
    const network = { limits: req.registry.network, attempts: req.registry.network?.attempts };
    const ops: OpResolvers = {
      source: createSourceOp({
        'docker-image': createImageSource(resolver, hostPlatform()),
        local: createLocalSource(req.locals, checksum, store.layout.contextIndex, (dir) => [...contextRead].reduce((n, [d, b]) => (d === dir || d.startsWith(`${dir}/`) ? n + b : n), 0)),
        https: createHttpSource(network),
        http: createHttpSource(network),
        git: createGitSource(network),
      }),
      exec: createExecOp({ runtime: req.runtime, maxParallelism: req.maxParallelism, defaultNetwork: req.network, secrets: (id) => req.secrets.get(id), ssh: (id) => req.ssh.get(id) }),
      file: createFileOp(
        (a, o) => pool.run('copyFiles', a, o),
        (from, to) => pool.run('cloneLayer', from, to),
      ),
      merge: createMergeOp(),
      diff: createDiffOp((lower, upper, out) => pool.run('diffTrees', lower, upper, out)),
    };
    // One result per vertex across the build's solves: steps the frontend solved (ctx.solve)
    // and steps platforms share run once.
    const results = new Map<string, Promise<Ref[]>>();
    // Imported caches are read while the frontend runs; their layers only when a step needs them.
    const imported = loadCacheImports(req.cacheImports, { store, registry, platforms: req.platforms, progress });
    const keyed = new Map<string, { key: string; outputs: number }>();
    const ran = new Set<string>();
    const cached = new Set<string>();
    const solveOnce = async (definition: Definition) => {
      checkEntitlements(definition, req.allow);
      const s = await solve(definition, { store, ops, progress, signal, noCache: req.noCache, results, imported: await imported, keyed });
      for (const d of s.ran) ran.add(d);
      for (const d of s.cached) cached.add(d);
      return s.ref;
    };
    const result = await runFrontend(req, resolver, progress, async (definition) => solvedTree(store, await solveOnce(definition)), frontendLoading);
    const targets = result.platforms ?? [{ platform: req.platforms[0]!, definition: result.definition, config: result.config }];
    const refs = await Promise.all(targets.map((t) => solveOnce(t.definition)));
    const stopIfCanceled = () => {
      if (signal?.aborted) throw new KilnError('build canceled', { kind: 'canceled' });
    };
    stopIfCanceled();
    // The steps' files go to disk while the outputs are made (settled before the build returns).
    void store.unsynced.sync();
    const solved = { ref: refs[0]!, ran: [...ran], cached: [...cached].filter((d) => !ran.has(d)) };
    const now = new Date();
    const images = new Map<string, Promise<ExportImage>>();
    const inline = req.cacheExports.some((c) => c.type === 'inline');
    /** A progress row with bytes and rate (exports, pushes, layer tars). */
    const transfer = (id: string, name: string, total?: number) => bytesReporter(progress, { digest: '', id, name, total });
    const work: LayerWork = {
      blob: (dirs, dest, opts, onBytes) => pool.runReporting('createLayerBlob', onBytes, dirs, dest, opts),
      diff: (dirs, opts, onBytes) => pool.runReporting('layerDiff', onBytes, dirs, opts),
      row: (name, total) => transfer(`layer ${name}`, name, total),
    };
    /** Platform `t`'s image with these options: made once per distinct options in this build. */
    const imageWith = (o: ImageOptions, t = 0): Promise<ExportImage> => {
      const key = `${t}:${imageOptionsKey(o)}`;
      let p = images.get(key);
      if (!p) {
        const target = targets[t]!;
        // The frontend's annotations, under the output's own.
        const annotated = result.annotations ? { ...o, annotations: { ...result.annotations, ...o.annotations } } : o;
        // An attestation names the manifest it is about: such an image is stored as it will be pushed.
        const lo = { ...annotated, keep: o.keep && !req.provenance };
        const ref = refs[t]!;
        const config = inline && ref.kind === 'snapshot' ? { ...target.config, ...inlineCacheField(store, keyed.values(), ref.id) } : target.config;
        p = imageOfRef(store, ref, config, now, work, lo).then(async (img) => {
          if (!req.provenance) return img;
          const input = provenanceInput(req, target.definition, await readBuildFile(req), req.provenance.mode, startedOn, req.provenance.builderId);
          const cfg = img.config as unknown as { os?: string; architecture?: string; variant?: string };
          const platform = { os: cfg.os ?? 'linux', architecture: cfg.architecture ?? 'amd64', ...(cfg.variant ? { variant: cfg.variant } : {}) };
          return { ...img, provenance: { statement: (subject: { digest: Digest; name: string }) => provenanceStatement(input, subject), platform } };
        });
        images.set(key, p);
      }
      return p;
    };
    /** What an exporter gets: the image, and every platform's for a multi-platform build. */
    const sourceWith = async (o: ImageOptions): Promise<ExportSource> => ({
      image: await imageWith(o),
      names: req.tags,
      openRootfs: () => openRootfsView(store, solved.ref),
      transfer,
      platforms: result.platforms
        ? await Promise.all(targets.map(async (t, i) => ({ platform: t.platform, image: await imageWith(o, i), openRootfs: () => openRootfsView(store, refs[i]!) })))
        : undefined,
    });
    const exportAll = async (): Promise<BuildOutcome> => {
      const outcome: BuildOutcome = { ran: solved.ran.length, cached: solved.cached.length, exports: [] };
      const cacheOnly = req.outputs.some((o) => o.type === 'cacheonly');
      if (inline && !planned.some((p) => p.isImage)) {
        progress.emit({ type: 'warning', message: 'cache type=inline: no image output to carry it (add -o type=image,... or type=oci)', time: Date.now() });
      }
      if (planned.length === 0 && !req.iidfile && !req.metadataFile && req.progress !== 'quiet') {
        if (!cacheOnly && !req.cacheExports.length) progress.emit({ type: 'warning', message: 'no output specified: the result stays in the build cache (use -o type=oci,dest=FILE or another output)', time: Date.now() });
        return outcome;
      }
      const first = planned.find((p) => p.isImage)?.image ?? defaultImage;
      const main = buildImageBlobs(await imageWith(first), { ociMediaTypes: first.ociMediaTypes });
      // A multi-platform image is known by its index.
      outcome.imageId = result.platforms ? exportBlobs(await sourceWith(first), [], { ociMediaTypes: first.ociMediaTypes }).top.digest : main.config.descriptor.digest;
      for (const { exporter: ex, image: io } of planned) {
        stopIfCanceled(); // no output is begun after a signal
        const started = Date.now();
        const r = await ex.export(await sourceWith(io));
        progress.emit({ type: 'info', message: `exported ${ex.kind}${r.dest ? ` to ${r.dest}` : ''}${r.manifestDigest ? ` (${r.manifestDigest})` : ''} in ${((Date.now() - started) / 1000).toFixed(1)}s`, time: Date.now() });
        outcome.exports.push(r);
      }
      if (req.iidfile && outcome.imageId) await writeFile(req.iidfile, outcome.imageId);
      if (req.metadataFile) await writeFile(req.metadataFile, `${JSON.stringify(buildMetadata(outcome, main, req.tags.map(normalizeImageName)), null, 2)}\n`);
      return outcome;
    };
    const outcome = await exportAll();
    for (const name of pushes) {
      stopIfCanceled();
      const started = Date.now();
      const digest = await pushImage(store, registry, name, (line) => progress.emit({ type: 'info', message: `push ${name}: ${line}`, time: Date.now() }), transfer, work);
      progress.emit({ type: 'info', message: `pushed ${name} (${digest}) in ${((Date.now() - started) / 1000).toFixed(1)}s`, time: Date.now() });
    }
    stopIfCanceled();
    await exportCaches(req.cacheExports, {
      store,
      registry,
      progress,
      transfer,
      keyed: [...keyed.values()],
      results: refs.map((r) => (r.kind === 'snapshot' ? r.id : null)),
      layerBlob: (o) => async (top) => {
        const b = await layerBlob(store, top, work, { compression: o.compression, level: o.level, force: o.force });
        return { ...b, path: store.content.path(b.digest) };
      },
    });
    if (req.gc) await autoGc(store, req.gc, progress);
    await syncWithRow(store, transfer);
    return outcome;
  } finally {
    pool.close();
    await store.settle().catch(() => {});
    store.close();
  }
}
