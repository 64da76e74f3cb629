/**
 * Frontends in any language: an executable that speaks the frontend API as JSON lines on its
 * stdin and stdout (protocol 1, docs/frontend-protocol.md).
 *
 *   kiln → frontend   {"kiln":"frontend","protocol":1,"type":"build","opts":{...},"inputs":["context","dockerfile"]}
 *   frontend → kiln   {"id":1,"method":"readFile","params":{"input":"dockerfile","path":"build.yaml"}}
 *   kiln → frontend   {"id":1,"result":{"data":"<base64>"}}        (or {"id":1,"error":"message"})
 *   ...               methods: readFile, readDir, stat, resolveImageConfig, solve, ref.readFile,
 *                     ref.readDir, ref.stat, warn, progress
 *   frontend → kiln   {"type":"result","definition":{...},"config":{...},"annotations":{...}}   (or {"type":"error","message":"..."})
 *
 * The definition is either kiln's own (ops with digests) or a plain one that names inputs
 * by op index: {"ops":[{"op":{...},"inputs":[{"op":0,"index":0}]}],"output":{"op":1,"index":0}}
 * (kiln computes the digests), so a script need not hash anything. The process is killed
 * when the build ends, whatever happened.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { opDigest } from '../llb/encode.ts';
import type { Definition, Op } from '../llb/types.ts';
import type { FileTree, Frontend, FrontendContext, FrontendResult } from '../frontend/api.ts';
import type { Digest } from '../util/digest.ts';

export const FRONTEND_PROTOCOL = 1;

interface PlainOp {
  op: Op['op'];
  inputs?: { op: number; index: number }[];
  platform?: Op['platform'];
  metadata?: Definition['metadata'][string];
}

/** A plain definition (inputs by op index) as kiln's Definition; kiln's own passes through. */
export function toDefinition(d: unknown): unknown {
  const plain = d as { ops?: unknown[]; output?: { op?: number; index?: number } | null; version?: number };
  if (!plain || !Array.isArray(plain.ops) || plain.version === 1) return d;
  if (!plain.ops.every((o) => o && typeof o === 'object' && 'op' in (o as object) && !('digest' in (o as object)))) return d;
  const digests: Digest[] = [];
  const ops: Definition['ops'] = [];
  const metadata: Definition['metadata'] = {};
  (plain.ops as PlainOp[]).forEach((p, i) => {
    const inputs = (p.inputs ?? []).map((inp) => {
      const digest = digests[inp.op];
      if (inp.op >= i || digest === undefined) throw new Error(`ops.${i}.inputs: op ${inp.op} must come before op ${i}`);
      return { digest, index: inp.index ?? 0 };
    });
    const op: Op = { inputs, op: p.op };
    if (p.platform) op.platform = p.platform;
    const digest = opDigest(op);
    digests.push(digest);
    ops.push({ digest, op });
    if (p.metadata) metadata[digest] = p.metadata;
  });
  const out = plain.output;
  return { version: 1, ops, metadata, output: out && typeof out.op === 'number' ? { digest: digests[out.op], index: out.index ?? 0 } : null };
}

export function processFrontend(path: string, label: string): Frontend {
  return { name: label, apiVersion: 1, build: (ctx) => runProcess(path, label, ctx) };
}

function runProcess(path: string, label: string, ctx: FrontendContext): Promise<FrontendResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(path, [], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    let settled = false;
    const finish = (err: Error | undefined, result?: FrontendResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(killer);
      child.stdin.end();
      if (child.exitCode === null) child.kill('SIGKILL');
      if (err) reject(err);
      else resolve(result!);
    };
    // Never outlive the frontend timeout (runFrontendSafely reports it).
    const limit = Number(process.env.KILN_FRONTEND_TIMEOUT ?? '') * 1000 || 600_000;
    const expired = () => finish(new Error(`no answer within ${limit / 1000} s`));
    let killer = setTimeout(expired, limit + 50);
    child.stderr.on('data', (c: Buffer) => {
      stderr = (stderr + c.toString()).slice(-4000);
    });
    child.on('error', (err) => finish(new Error(`cannot run ${path}: ${err.message}`)));
    // (deferred: the last lines of stdout are read first)
    child.on('close', (code, signal) =>
      setImmediate(() => finish(new Error(`exited (${signal ?? `code ${code}`}) before answering${stderr.trim() ? `: ${stderr.trim().split('\n').slice(-3).join(' | ')}` : ''}`))),
    );
    child.stdin.on('error', () => {});
    const send = (msg: unknown) => {
      if (!child.stdin.destroyed) child.stdin.write(`${JSON.stringify(msg)}\n`);
    };
    // Solved results by the number `solve` answered with.
    const refs: FileTree[] = [];
    const refOf = (params: Record<string, unknown>) => {
      const r = refs[Number(params.ref)];
      if (!r) throw new Error(`no solved result numbered ${String(params.ref)}`);
      return r;
    };
    let solving = 0;
    const call = async (method: string, params: Record<string, unknown>): Promise<unknown> => {
      switch (method) {
        case 'readFile':
          return { data: Buffer.from(await ctx.inputs.readFile(String(params.input), String(params.path))).toString('base64') };
        case 'readDir':
          return ctx.inputs.readDir(String(params.input), String(params.path));
        case 'stat':
          return (await ctx.inputs.stat(String(params.input), String(params.path))) ?? null;
        case 'solve': {
          // kiln's own time: the process's answer limit waits meanwhile.
          if (solving++ === 0) clearTimeout(killer);
          try {
            refs.push(await ctx.solve(toDefinition(params.definition) as Definition));
          } finally {
            if (--solving === 0) killer = setTimeout(expired, limit + 50);
          }
          return { ref: refs.length - 1 };
        }
        case 'ref.readFile':
          return { data: Buffer.from(await refOf(params).readFile(String(params.path))).toString('base64') };
        case 'ref.readDir':
          return refOf(params).readDir(String(params.path));
        case 'ref.stat':
          return (await refOf(params).stat(String(params.path))) ?? null;
        case 'progress':
          ctx.progress(String(params.message));
          return null;
        case 'resolveImageConfig':
          return ctx.resolveImageConfig(String(params.ref), (params.platform as FrontendContext['opts']['platforms'][number]) ?? ctx.opts.platforms[0]!);
        case 'warn':
          ctx.warn({ message: String(params.message), rule: params.rule ? String(params.rule) : undefined });
          return null;
        default:
          throw new Error(`unknown method "${method}"`);
      }
    };
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      if (!line.trim()) return;
      let msg: { id?: number; method?: string; params?: Record<string, unknown>; type?: string; message?: string; definition?: unknown; config?: unknown; annotations?: Record<string, string> };
      try {
        msg = JSON.parse(line);
      } catch {
        finish(new Error(`wrote a line that is not JSON: ${line.slice(0, 120)}`));
        return;
      }
      if (msg.type === 'result') {
        try {
          finish(undefined, { definition: toDefinition(msg.definition) as Definition, config: msg.config as FrontendResult['config'], ...(msg.annotations ? { annotations: msg.annotations } : {}) });
        } catch (err) {
          finish(new Error(`returned an invalid definition: ${(err as Error).message}`));
        }
      } else if (msg.type === 'error') finish(new Error(msg.message ?? 'unknown error'));
      else if (typeof msg.id === 'number' && msg.method) {
        const id = msg.id;
        call(msg.method, msg.params ?? {}).then(
          (result) => send({ id, result }),
          (err: Error) => send({ id, error: err.message }),
        );
      } else finish(new Error(`sent a message kiln does not know: ${line.slice(0, 120)}`));
    });
    send({ kiln: 'frontend', protocol: FRONTEND_PROTOCOL, type: 'build', opts: ctx.opts, inputs: ctx.inputs.names() });
  });
}
