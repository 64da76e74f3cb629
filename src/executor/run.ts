/**
 * runContainer: one RUN step in an OCI runtime container, with everything it creates
 * (bundle, runtime state, cgroup, mount stubs) removed again however it ends.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { access, mkdir, stat, writeFile } from 'node:fs/promises';
import { join, posix, resolve } from 'node:path';
import { KilnError } from '../util/errors.ts';
import { removeAll } from '../util/fs.ts';
import { DEFAULT_HOSTNAME, hostsFileContent, readHostResolvConf, resolvConfContent } from './etc-files.ts';
import { mkdirAllOwned } from './root-path.ts';
import { resolveInRoot } from '../util/root-path.ts';
import { findRuntime, readRuntimeErrors, runtimeCommand, type Runtime } from './runtime.ts';
import { generateSpec, specJson } from './spec.ts';
import { privilegedExtras } from './privileged.ts';
import { recordMountStubs } from './stubs.ts';
import type { RunOptions, RunResult } from './types.ts';
import { resolveUser } from './user.ts';

const KILL_RETRY_MS = 50;
const KILL_GIVE_UP_MS = 10_000;

function canceled(): KilnError {
  return new KilnError('RUN step canceled', { kind: 'canceled' });
}

async function cgroupV2(): Promise<boolean> {
  try {
    await access('/sys/fs/cgroup/cgroup.controllers');
    return true;
  } catch {
    return false;
  }
}

/** A container id unique across processes sharing one state dir. */
export function newContainerId(): string {
  return `kiln-${process.pid}-${randomBytes(8).toString('hex')}`;
}

function describeRuntimeFailure(rt: Runtime, messages: string[], stderrTail: string): KilnError {
  const text = messages.length > 0 ? messages[messages.length - 1]! : stderrTail.trim().split('\n').pop() ?? 'unknown error';
  const hybrid = /cgroup/i.test(text) && rt.name === 'crun';
  const message = text.startsWith(`${rt.name} `) ? text : `${rt.name} run failed: ${text}`;
  const stderrLines = stderrTail.trim() ? stderrTail.trim().split('\n').slice(-10) : [];
  return new KilnError(message, {
    kind: 'runtime',
    hint: hybrid ? 'crun does not support this host\'s cgroup setup (hybrid cgroup v1/v2); use runc' : undefined,
    details: [...new Set([...messages, ...stderrLines])],
  });
}

/**
 * Runs `opts.args` in a fresh container on `opts.rootfs` and resolves with its exit code
 * (128+N when killed by signal N). A failure of the runtime itself (bad mount, missing
 * executable, cgroup trouble) rejects with a KilnError of kind 'runtime' naming the runtime;
 * abort rejects with kind 'canceled'; an exception thrown by onOutput stops the container and
 * is rethrown. In every case the container is deleted, the mount stubs it left in the rootfs
 * and the bundle removed before the promise settles. Safe to call concurrently with the same
 * stateDir.
 */
export async function runContainer(opts: RunOptions): Promise<RunResult> {
  if (opts.signal?.aborted) throw canceled();
  if (opts.args.length === 0) throw new KilnError('RUN needs a command', { kind: 'build' });
  const rt = await findRuntime(opts.runtime);
  const rootfs = resolve(opts.rootfs);
  const stateDir = resolve(opts.stateDir);
  const id = newContainerId();
  const bundle = join(stateDir, `${id}.bundle`);
  await mkdir(stateDir, { recursive: true, mode: 0o711 });
  await mkdir(bundle, { mode: 0o711 });
  let cleanStubs: (() => Promise<void>) | undefined;
  let started = false;
  try {
    const user = await resolveUser(rootfs, opts.user);
    const cwd = posix.join('/', opts.cwd || '/');
    const cwdHost = await resolveInRoot(rootfs, cwd);
    const cwdStat = await stat(cwdHost).catch(() => null);
    if (!cwdStat) await mkdirAllOwned(rootfs, cwdHost, user.uid, user.gid);

    const hostsFile = join(bundle, 'hosts');
    const resolvConf = join(bundle, 'resolv.conf');
    // The bundle lives only as long as this container: no fsync, no temp-and-rename.
    await writeFile(hostsFile, hostsFileContent(opts.hostname || DEFAULT_HOSTNAME, opts.extraHosts));
    await writeFile(resolvConf, resolvConfContent(await readHostResolvConf(), opts.network));
    const mounts = opts.mounts ?? [];
    const spec = generateSpec({
      id,
      rootfs,
      args: opts.args,
      env: opts.env,
      cwd,
      user,
      hostname: opts.hostname || DEFAULT_HOSTNAME,
      network: opts.network,
      hostsFile,
      resolvConf,
      mounts,
      cgroupNamespace: await cgroupV2(),
      ulimits: opts.ulimits,
      privileged: opts.privileged ? await privilegedExtras() : undefined,
    });
    await writeFile(join(bundle, 'config.json'), specJson(spec));
    cleanStubs = await recordMountStubs(rootfs, ['/etc/resolv.conf', '/etc/hosts', ...mounts.map((m) => m.destination)]);
    if (opts.signal?.aborted) throw canceled();

    started = true;
    const logFile = join(bundle, 'runtime.log');
    const { code, aborted, stderrTail, outputError } = await spawnRun(rt, stateDir, bundle, id, logFile, opts);
    // `run` (without --keep) deletes the container when its process exits: nothing to clean up.
    if (code >= 0 && !aborted) started = false;
    if (outputError !== undefined) throw outputError;
    if (aborted) throw canceled();
    const errors = await readRuntimeErrors(logFile);
    if (errors.length > 0 || code < 0) throw describeRuntimeFailure(rt, errors, stderrTail);
    return { exitCode: code };
  } finally {
    if (started) await runtimeCommand(rt, stateDir, ['delete', '--force', id]);
    if (cleanStubs) await cleanStubs();
    await removeAll(bundle);
  }
}

/**
 * `RUNTIME --root STATE run --bundle BUNDLE ID`, output streamed to onOutput. On abort the
 * container is killed with SIGKILL (retried until the runtime has created it), and the runtime
 * process itself is killed if that does not end it in time.
 */
function spawnRun(
  rt: Runtime,
  stateDir: string,
  bundle: string,
  id: string,
  logFile: string,
  opts: RunOptions,
): Promise<{ code: number; aborted: boolean; stderrTail: string; outputError: unknown }> {
  return new Promise((resolveRun) => {
    const args = ['--root', stateDir, '--log', logFile, '--log-format', 'json', 'run', '--bundle', bundle, id];
    const child = spawn(rt.path, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: bundle });
    let aborted = false;
    let exited = false;
    let stderrTail = '';
    let outputError: unknown;
    let killTimer: ReturnType<typeof setTimeout> | undefined;
    const abortStart = { t: 0 };

    const deliver = (stream: 'stdout' | 'stderr', chunk: Buffer) => {
      if (outputError !== undefined) return;
      try {
        opts.onOutput?.(stream, new Uint8Array(chunk));
      } catch (err) {
        // a failing consumer stops the step like an abort, and its error is what the caller sees
        outputError = err;
        onAbort();
      }
    };
    child.stdout.on('data', (chunk: Buffer) => deliver('stdout', chunk));
    child.stderr.on('data', (chunk: Buffer) => {
      stderrTail = (stderrTail + chunk.toString('utf8')).slice(-4096);
      deliver('stderr', chunk);
    });

    const killLoop = async (): Promise<void> => {
      if (exited) return;
      if (Date.now() - abortStart.t > KILL_GIVE_UP_MS) {
        child.kill('SIGKILL');
        return;
      }
      await runtimeCommand(rt, stateDir, ['kill', id, 'KILL']);
      if (!exited) killTimer = setTimeout(() => void killLoop(), KILL_RETRY_MS);
    };
    const onAbort = () => {
      if (aborted || exited) return;
      aborted = true;
      abortStart.t = Date.now();
      void killLoop();
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    if (opts.signal?.aborted) onAbort();

    const finish = (code: number) => {
      if (exited) return;
      exited = true;
      if (killTimer) clearTimeout(killTimer);
      opts.signal?.removeEventListener('abort', onAbort);
      resolveRun({ code, aborted, stderrTail, outputError });
    };
    child.on('error', (err) => {
      stderrTail += String(err);
      finish(-1);
    });
    child.on('close', (code, signal) => finish(code ?? (signal ? -1 : -1)));
  });
}
