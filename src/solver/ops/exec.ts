import { join } from 'node:path';
import type { ExecOp } from '../../llb/types.ts';
import { KilnError } from '../../util/errors.ts';
import { cannotRunHere } from '../../executor/emulation.ts';
import { runContainer } from '../../executor/index.ts';
import type { OpContext, OpResolver, Ref } from '../types.ts';
import { createLimiter, type Limiter } from '../limiter.ts';
import { OutputTail } from './output-tail.ts';
import { withNewSnapshot } from './new-snapshot.ts';
import { prepareMounts, type SecretSource, type SshLookup } from './exec-mounts.ts';

export interface ExecOpConfig {
  runtime?: string;
  /** How many RUN steps may run at once; 0 or unset: no limit. */
  maxParallelism?: number;
  /** Network mode used for `sandbox` (the default network): 'host' like BuildKit's host-network worker. */
  defaultNetwork?: 'host' | 'none';
  /** Values of `--secret`s, by id. */
  secrets?: SecretSource;
  /** `--ssh` agents, by id. */
  ssh?: SshLookup;
}

/**
 * RUN steps: an overlay of the root input's layers plus a fresh upper dir, the process run
 * in the OCI runtime, and the upper dir committed as the new snapshot on success.
 */
export function createExecOp(config: ExecOpConfig = {}): OpResolver {
  const limiter: Limiter = createLimiter(config.maxParallelism || Infinity);
  return function execOp(ctx: OpContext) {
    const body = ctx.op.op as ExecOp;
    return {
      cacheBody() {
        // Proxy settings, cache-mount ids and resource limits (ulimits, tmpfs sizes) never change
        // a step's result.
        const { proxyEnv: _p, ulimits: _u, ...meta } = body.meta;
        const mounts = body.mounts.map((m) => (m.cache ? { ...m, cache: { ...m.cache, id: '' } } : m.tmpfs ? { ...m, tmpfs: {} } : m));
        return { ...body, meta, mounts };
      },
      slot: (start) => limiter.run(start),
      exec: (inputs: Ref[]) => runExec(ctx, body, inputs, config),
    };
  };
}

async function runExec(ctx: OpContext, body: ExecOp, inputs: Ref[], config: ExecOpConfig): Promise<Ref[]> {
  const { store } = ctx;
  const rootMount = body.mounts.find((m) => m.dest === '/');
  if (!rootMount) throw new KilnError('exec op without a root mount', { kind: 'internal' });
  const base = rootMount.input >= 0 ? inputs[rootMount.input] : undefined;
  const tail = new OutputTail(20);
  const out = await withNewSnapshot(store, base, async ({ root, runDir }) => {
    const prepared = await prepareMounts(store, body.mounts, inputs, runDir, config.secrets ?? (() => undefined), body.secretEnv ?? [], config.ssh);
    try {
      const mounts = prepared.mounts;
      const network = body.network === 'sandbox' ? (config.defaultNetwork ?? 'host') : body.network;
      const env = [...body.meta.env, ...Object.entries(body.meta.proxyEnv ?? {}).map(([k, v]) => `${k}=${v}`), ...prepared.env];
      const result = await runContainer({
        rootfs: root,
        args: body.meta.args,
        env,
        cwd: body.meta.cwd || '/',
        user: body.meta.user,
        hostname: body.meta.hostname,
        network,
        extraHosts: body.meta.extraHosts,
        ulimits: body.meta.ulimits,
        privileged: body.security === 'insecure',
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
        const location = loc ? { file: loc.file, startLine: loc.ranges[0]?.startLine ?? 0, endLine: loc.ranges[0]?.endLine ?? 0 } : undefined;
        const foreign = cannotRunHere(ctx.op.platform, tail.lines());
        if (foreign) throw new KilnError(foreign.message, { kind: 'build', details: tail.lines(), hint: foreign.hint, location });
        throw new KilnError(`process "${body.meta.args.join(' ')}" did not complete successfully: exit code: ${result.exitCode}`, {
          kind: 'build',
          details: tail.lines(),
          hint: 'the whole output is in the progress above; `--progress=plain` keeps every line in CI logs',
          location,
        });
      }
    } finally {
      await prepared.release();
    }
  });
  return [out];
}
