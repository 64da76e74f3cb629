import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExecOp } from '../../llb/types.ts';
import { KilnError } from '../../util/errors.ts';
import { mountOverlay, unmountPath } from '../../snapshot/overlay.ts';
import { runContainer } from '../../executor/index.ts';
import type { OpContext, OpResolver, Ref } from '../types.ts';
import { createLimiter, type Limiter } from '../limiter.ts';
import { OutputTail } from './output-tail.ts';
import { snapshotLowerDirs } from './lower-dirs.ts';
import { withNewSnapshot } from './new-snapshot.ts';

export interface ExecOpConfig {
  runtime?: string;
  /** How many RUN steps may run at once. */
  maxParallelism?: number;
  /** Network mode used for `sandbox` (the default network): 'host' like BuildKit's host-network worker. */
  defaultNetwork?: 'host' | 'none';
}

/**
 * RUN steps: an overlay of the root input's layers plus a fresh upper dir, the process run
 * in the OCI runtime, and the upper dir committed as the new snapshot on success.
 */
export function createExecOp(config: ExecOpConfig = {}): OpResolver {
  const limiter: Limiter = createLimiter(config.maxParallelism ?? 4);
  return function execOp(ctx: OpContext) {
    const body = ctx.op.op as ExecOp;
    return {
      cacheBody() {
        // Proxy settings and hostnames never change a step's result.
        const { proxyEnv: _p, ...meta } = body.meta;
        return { ...body, meta };
      },
      exec: (inputs: Ref[]) => limiter.run(() => runExec(ctx, body, inputs, config)),
    };
  };
}

async function runExec(ctx: OpContext, body: ExecOp, inputs: Ref[], config: ExecOpConfig): Promise<Ref[]> {
  const { store } = ctx;
  const rootMount = body.mounts.find((m) => m.dest === '/');
  if (!rootMount) throw new KilnError('exec op without a root mount', { kind: 'internal' });
  for (const m of body.mounts) {
    if (m.dest !== '/' && !(m.type === 'bind' && m.readonly)) {
      throw new KilnError(`RUN mounts (${m.type} at ${m.dest}) are not supported yet`, { kind: 'input' });
    }
  }
  const base = rootMount.input >= 0 ? inputs[rootMount.input] : undefined;
  const tail = new OutputTail(20);
  const out = await withNewSnapshot(store, base, async ({ root, runDir }) => {
    // Read-only binds of other states (e.g. a heredoc script): a read-only view each.
    const views: string[] = [];
    try {
      const mounts = [];
      for (const m of body.mounts) {
        if (m.dest === '/') continue;
        const view = join(runDir, `mount-${views.length}`);
        await mkdir(view, { recursive: true });
        await mountOverlay({ lowerDirs: await snapshotLowerDirs(store, m.input >= 0 ? inputs[m.input] : undefined), target: view, readonly: true });
        views.push(view);
        const source = m.selector && m.selector !== '/' ? join(view, m.selector) : view;
        mounts.push({ destination: m.dest, type: 'bind' as const, source, readonly: true });
      }
      const network = body.network === 'sandbox' ? (config.defaultNetwork ?? 'host') : body.network;
      const env = [...body.meta.env, ...Object.entries(body.meta.proxyEnv ?? {}).map(([k, v]) => `${k}=${v}`)];
      const result = await runContainer({
        rootfs: root,
        args: body.meta.args,
        env,
        cwd: body.meta.cwd || '/',
        user: body.meta.user,
        hostname: body.meta.hostname,
        network,
        extraHosts: body.meta.extraHosts,
        mounts,
        runtime: config.runtime,
        stateDir: join(store.layout.run, 'executor'),
        signal: ctx.signal,
        onOutput(stream, chunk) {
          tail.push(chunk);
          ctx.log(stream, chunk);
        },
      });
      if (result.exitCode !== 0) {
        const loc = ctx.metadata.locations?.[0];
        throw new KilnError(`process "${body.meta.args.join(' ')}" did not complete successfully: exit code: ${result.exitCode}`, {
          kind: 'build',
          details: tail.lines(),
          hint: 'the whole output is in the progress above; `--progress=plain` keeps every line in CI logs',
          location: loc ? { file: loc.file, startLine: loc.ranges[0]?.startLine ?? 0, endLine: loc.ranges[0]?.endLine ?? 0 } : undefined,
        });
      }
    } finally {
      for (const v of views) await unmountPath(v).catch(() => {});
    }
  });
  return [out];
}
