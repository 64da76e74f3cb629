import { sha256, type Digest } from '../util/digest.ts';
import { KilnError, describeFsError, errorMessage } from '../util/errors.ts';
import { diskFullError, isDiskFull } from '../store/index.ts';
import { canonicalJson } from '../llb/encode.ts';
import type { Definition, Op, OpMetadata } from '../llb/types.ts';
import type { ProgressSink } from '../progress/events.ts';
import type { Store } from '../store/index.ts';
import { EMPTY_REF, type ImportedCache, type OpContext, type OpResolvers, type OpSolver, type Ref } from './types.ts';
import { bytesReporter } from '../progress/events.ts';
import { ensureUnpacked } from '../snapshot/unpack.ts';
import { vertexName, outputCount } from './vertex-info.ts';
import { missReason, stepIdent, type KeyFacts } from './miss-reason.ts';

export interface SolveOptions {
  store: Store;
  ops: OpResolvers;
  progress: ProgressSink;
  signal?: AbortSignal;
  /** Ignore cached results (everything runs), as `--no-cache`. */
  noCache?: boolean;
  /**
   * Results by vertex digest, shared by the solves of one build (its frontend's ctx.solve, each
   * platform's definition): a vertex any of them reached is run or looked up once.
   */
  results?: Map<string, Promise<Ref[]>>;
  /** Records imported from other machines (`--cache-from`), asked when the store has none. */
  imported?: ImportedCache;
  /**
   * Filled with the cache key and output count of every cacheable vertex whose key was
   * computed (a cache export's candidates), by vertex digest.
   */
  keyed?: Map<string, { key: string; outputs: number }>;
}

export interface SolveResult {
  ref: Ref;
  /** Steps (cacheable vertices) that ran and that came from the cache, by digest. */
  ran: Digest[];
  cached: Digest[];
}

/**
 * Runs a definition: each vertex at most once, independent vertices concurrently,
 * vertices not needed for the output never. A vertex whose cache key has a record is not
 * run, and then neither are its inputs (unless something else needs them).
 */
/** Attaches the failing step (its name and build-file location) to an error, once. */
function atStep(err: unknown, name: string, md: OpMetadata): Error {
  const e = err instanceof KilnError ? err : isDiskFull(err) ? diskFullError('the state dir', err) : new KilnError(describeFsError(err) ?? errorMessage(err), { kind: 'build', cause: err });
  const loc = md.locations?.[0];
  if (!e.location && loc?.ranges[0]) e.location = { file: loc.file, startLine: loc.ranges[0].startLine, endLine: loc.ranges[0].endLine };
  if (e.kind !== 'canceled' && !e.message.startsWith(`${name}: `) && !(e as { step?: string }).step) {
    (e as { step?: string }).step = name;
    e.message = `${name}: ${e.message}`;
  }
  return e;
}

export async function solve(def: Definition, opts: SolveOptions): Promise<SolveResult> {
  const ops = new Map<string, Op>(def.ops.map((o) => [o.digest, o.op]));
  const signal = opts.signal ?? new AbortController().signal;
  const solvers = new Map<string, OpSolver>();
  const keys = new Map<string, Promise<string>>();
  const facts = new Map<string, KeyFacts>();
  const results = opts.results ?? new Map<string, Promise<Ref[]>>();
  const ran: Digest[] = [];
  const cached: Digest[] = [];

  const contextOf = (digest: Digest): OpContext => {
    const op = ops.get(digest);
    if (!op) throw new KilnError(`invalid definition: op ${digest} is missing`, { kind: 'internal' });
    const metadata: OpMetadata = def.metadata[digest] ?? {};
    const name = vertexName(op, metadata);
    return {
      digest,
      op,
      metadata,
      name,
      store: opts.store,
      progress: opts.progress,
      signal,
      log: (stream, chunk) =>
        opts.progress.emit({ type: 'log', digest, stream, data: typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'), time: Date.now() }),
    };
  };

  const solverOf = (digest: Digest): OpSolver => {
    let s = solvers.get(digest);
    if (!s) {
      const ctx = contextOf(digest);
      s = opts.ops[ctx.op.op.type](ctx);
      solvers.set(digest, s);
    }
    return s;
  };

  const keyOf = (digest: Digest): Promise<string> => {
    let k = keys.get(digest);
    if (!k) {
      k = (async () => {
        const op = ops.get(digest)!;
        const s = solverOf(digest);
        const selectors = s.inputSelectors?.() ?? {};
        const inputs = await Promise.all(
          op.inputs.map(async (i, n) => {
            const paths = selectors[n];
            const from = solverOf(i.digest);
            // Content-based: only the paths this op reads from that input count.
            if (paths && from.contentKey) return `content:${await from.contentKey(paths)}:${i.index}`;
            return `${await keyOf(i.digest)}:${i.index}`;
          }),
        );
        const parts = s.cacheKeyParts ? await s.cacheKeyParts() : undefined;
        const body = s.cacheBody ? s.cacheBody() : op.op;
        facts.set(digest, {
          op: body,
          platform: op.platform,
          inputs: op.inputs.map((i, n) => {
            const src = ops.get(i.digest)!.op;
            const name = src.type === 'source' ? src.identifier.replace(/^local:\/\//, '') : contextOf(i.digest).name;
            return { name, key: inputs[n]! };
          }),
          parts,
        });
        const key = sha256(canonicalJson({ op: body, platform: op.platform, inputs, parts }));
        if (s.cacheable !== false) opts.keyed?.set(digest, { key, outputs: outputCount(op) });
        return key;
      })();
      keys.set(digest, k);
    }
    return k;
  };

  const resultOf = (digest: Digest): Promise<Ref[]> => {
    let r = results.get(digest);
    if (!r) {
      r = runVertex(digest);
      results.set(digest, r);
    }
    return r;
  };

  const runVertex = async (digest: Digest): Promise<Ref[]> => {
    const op = ops.get(digest)!;
    const md = def.metadata[digest] ?? {};
    const s = solverOf(digest);
    const ctx = contextOf(digest);
    const key = await keyOf(digest);
    const cacheable = s.cacheable !== false;
    const n = outputCount(op);
    const useCache = cacheable && !opts.noCache && !md.ignoreCache;
    const lookup = async (): Promise<Ref[] | undefined> => {
      const hits = Array.from({ length: n }, (_, i) => opts.store.cache.get(key, i));
      const local = hits.every((h) => h && (h.snapshot === null || opts.store.snapshots.get(h.snapshot)));
      if (!local && !opts.imported?.has(key, n)) return undefined;
      await reportCachedInputs(op);
      // An imported hit shows as cached while its layers download (as lines of the step).
      opts.progress.emit({ type: 'vertex', digest, name: ctx.name, status: 'cached', time: Date.now() });
      const snaps = local ? hits.map((h) => h!.snapshot) : await loadImported(digest, key, n, ctx.name);
      if (!snaps) return undefined;
      cached.push(digest);
      return snaps.map((id) => ({ kind: 'snapshot', id }));
    };
    if (useCache) {
      const hit = await lookup();
      if (hit) return hit;
    }
    const inputs = await Promise.all(op.inputs.map(async (i) => (await resultOf(i.digest))[i.index] ?? EMPTY_REF));
    // An input imported from a cache may not be extracted yet: ops read their inputs' files.
    await Promise.all(inputs.map((r) => (r.kind === 'snapshot' ? ensureUnpacked(opts.store, r.id) : undefined)));
    if (signal.aborted) throw new KilnError('build canceled', { kind: 'canceled' });
    // Another kiln process may be running this very step: wait for it and reuse its result.
    if (useCache) {
      while (!opts.store.leases.tryAcquire(key)) {
        await new Promise((r) => setTimeout(r, 100));
        if (signal.aborted) throw new KilnError('build canceled', { kind: 'canceled' });
        const hit = await lookup();
        if (hit) return hit;
      }
      const hit = await lookup();
      if (hit) {
        opts.store.leases.release(key);
        return hit;
      }
    }
    const ident = stepIdent(ctx.name, md.locations?.[0]?.file);
    const reason = cacheable ? (opts.noCache ? 'the cache is off for this build (--no-cache)' : md.ignoreCache ? 'the cache is off for this step (--no-cache-filter)' : missReason(opts.store.steps.previous(ident, key)?.facts as KeyFacts | undefined, facts.get(digest)!)) : undefined;
    try {
      // The step counts as started when it may run (a free RUN slot), and ends once recorded.
      const start = async () => {
        if (signal.aborted) throw new KilnError('build canceled', { kind: 'canceled' });
        opts.progress.emit({ type: 'vertex', digest, name: ctx.name, status: 'started', time: Date.now(), reason });
        const out = await s.exec(inputs);
        if (cacheable) {
          out.forEach((ref, i) => {
            if (ref.kind === 'snapshot') opts.store.cache.put(key, i, ref.id, ctx.name);
          });
          opts.store.steps.record(ident, key, facts.get(digest));
        }
        if (cacheable) ran.push(digest); // reading a local directory is not a step
        opts.progress.emit({ type: 'vertex', digest, name: ctx.name, status: 'completed', time: Date.now() });
        return out;
      };
      return await (s.slot ? s.slot(start) : start());
    } catch (err) {
      opts.progress.emit({ type: 'vertex', digest, name: ctx.name, status: 'error', time: Date.now(), error: errorMessage(err) });
      throw atStep(err, ctx.name, md);
    } finally {
      if (useCache) opts.store.leases.release(key);
    }
  };

  /** An imported record of `key`, loaded into the store (and recorded there) for this step. */
  const loadImported = async (digest: Digest, key: string, n: number, name: string): Promise<(string | null)[] | undefined> => {
    if (!opts.imported?.has(key, n)) return undefined;
    const snaps = await opts.imported.load(key, n, {
      transfer: (id, label, total) => bytesReporter(opts.progress, { digest, id, name: label, total }),
      warn: (message) => opts.progress.emit({ type: 'warning', message: `${name}: ${message}`, time: Date.now() }),
      signal,
    });
    if (snaps) snaps.forEach((snap, i) => opts.store.cache.put(key, i, snap, name));
    return snaps;
  };

  /**
   * Inputs of a cache hit are not needed, but users expect to see every step of a cached
   * build as CACHED (as BuildKit shows them): report those whose own records exist.
   */
  const reported = new Set<string>();
  const reportCachedInputs = async (op: Op): Promise<void> => {
    for (const i of op.inputs) {
      if (reported.has(i.digest) || results.has(i.digest)) continue;
      reported.add(i.digest);
      const inputOp = ops.get(i.digest)!;
      if (solverOf(i.digest).cacheable === false) continue;
      const k = await keyOf(i.digest);
      if (!opts.store.cache.get(k, i.index) && !opts.imported?.has(k, outputCount(inputOp))) continue;
      await reportCachedInputs(inputOp);
      cached.push(i.digest);
      opts.progress.emit({ type: 'vertex', digest: i.digest, name: contextOf(i.digest).name, status: 'cached', time: Date.now() });
    }
  };

  if (!def.output) return { ref: EMPTY_REF, ran, cached };
  // Resolve every key first (this resolves image metadata) so that errors in the graph show early.
  await keyOf(def.output.digest);
  const out = await resultOf(def.output.digest);
  return { ref: out[def.output.index] ?? EMPTY_REF, ran, cached };
}
