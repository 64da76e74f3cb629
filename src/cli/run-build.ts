import { createPlainPrinter } from '../progress/plain.ts';
import { createRawJsonPrinter } from '../progress/rawjson.ts';
import { createTtyPrinter } from '../progress/tty.ts';
import { nullProgress, type ProgressSink } from '../progress/events.ts';
import { KilnError } from '../util/errors.ts';
import { removeAll, removeOwnTemps } from '../util/fs.ts';
import { buildRequestFromFlags, readBuildFile, type BuildFlags } from './build-command.ts';
import { runBuild } from './build.ts';
import { parseCall, runCall } from './call.ts';
import { cleanupOwnLeftovers } from './open-store.ts';
import { formatError } from './print-error.ts';

/** `kiln build`: flags → request → build, with progress on stderr and Ctrl-C cancelling. */
export async function runBuildCommand(context: string | undefined, flags: Record<string, unknown>): Promise<void> {
  const call = flags.call !== undefined ? parseCall(String(flags.call)) : undefined;
  // A signal wins from the first moment (fetching a remote context too): see cancelOnSignal.
  const cancel = cancelOnSignal();
  try {
    await buildCommand(context, flags, call, cancel);
  } catch (err) {
    throw cancel.signal.aborted ? cancel.error() : err;
  } finally {
    cancel.dispose();
  }
}

/** How long a canceled build may take to unwind by itself before kiln cleans up and exits. */
const GRACE_MS = 1500;

interface Cancel {
  signal: AbortSignal;
  /** The error a canceled build ends with (exit 130 for SIGINT, 143 for SIGTERM). */
  error(): KilnError;
  /** Called once the state dir is known: what a forced exit must clean up. */
  setCleanup(fn: () => Promise<void>): void;
  dispose(): void;
}

/**
 * SIGINT and SIGTERM cancel the build: its signal aborts (steps stop, containers are killed),
 * and if it has not unwound after GRACE_MS (a long copy on a worker, an export), kiln removes
 * its own containers, mounts and temp files and exits with 128+N. A second signal exits at once
 * (after the same cleanup). A build that finishes after the signal still exits non-zero.
 */
function cancelOnSignal(): Cancel {
  const abort = new AbortController();
  let received: NodeJS.Signals | undefined;
  let cleanup: () => Promise<void> = removeOwnTemps; // before the state dir is known: a remote context's temp dir
  let timer: ReturnType<typeof setTimeout> | undefined;
  const code = () => (received === 'SIGTERM' ? 143 : 130);
  const error = () => new KilnError('build canceled', { kind: 'canceled', exitCode: code() });
  let exiting = false;
  const forceExit = async () => {
    if (exiting) return;
    exiting = true;
    await Promise.race([cleanup().catch(() => {}), new Promise((r) => setTimeout(r, 400))]);
    process.stderr.write(formatError(error()));
    process.exit(code());
  };
  const onSignal = (sig: NodeJS.Signals) => {
    if (received) {
      void forceExit();
      return;
    }
    received = sig;
    abort.abort();
    timer = setTimeout(() => void forceExit(), GRACE_MS);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: abort.signal,
    error,
    setCleanup: (fn) => (cleanup = fn),
    dispose() {
      if (timer) clearTimeout(timer);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

async function buildCommand(context: string | undefined, flags: Record<string, unknown>, call: ReturnType<typeof parseCall> | undefined, cancel: Cancel): Promise<void> {
  const req = await buildRequestFromFlags(context, flags as BuildFlags, cancel.signal);
  cancel.setCleanup(async () => {
    for (const d of req.tempDirs) await removeAll(d);
    await cleanupOwnLeftovers(req.root, req.runtime);
  });
  if (call && (call.name === 'targets' || call.name === 'outline')) {
    try {
      await runCall(req, call.name, call.json);
    } finally {
      for (const d of req.tempDirs) await removeAll(d);
    }
    return;
  }
  if (flags.check || call?.name === 'check') {
    const { runCheck } = await import('./check.ts');
    try {
      process.exitCode = await runCheck(req);
    } finally {
      for (const d of req.tempDirs) await removeAll(d);
    }
    return;
  }
  const printer: ProgressSink =
    req.progress === 'quiet' || req.progress === 'none'
      ? nullProgress
      : req.progress === 'rawjson'
        ? createRawJsonPrinter((s) => process.stderr.write(s))
        : req.progress === 'tty' || (req.progress === 'auto' && process.stderr.isTTY)
          ? createTtyPrinter(process.stderr)
          : createPlainPrinter((s) => process.stderr.write(s));
  // Warnings are counted for the summary.
  let warnings = 0;
  const progress: ProgressSink = {
    emit(e) {
      if (e.type === 'warning') warnings++;
      printer.emit(e);
    },
    close: () => printer.close(),
  };
  const started = Date.now();
  try {
    const out = await runBuild(req, progress, cancel.signal);
    if (cancel.signal.aborted) throw cancel.error(); // a signal wins, even one that came too late to stop anything
    progress.emit({
      type: 'summary',
      seconds: (Date.now() - started) / 1000,
      ran: out.ran,
      cached: out.cached,
      warnings,
      outputs: out.exports.map((x) => ({ kind: x.kind, ...(x.dest ? { dest: x.dest } : {}), ...(x.manifestDigest ? { digest: x.manifestDigest } : {}) })),
      time: Date.now(),
    });
    progress.close();
    if (req.progress === 'quiet' && out.imageId) process.stdout.write(`${out.imageId}\n`);
  } catch (err) {
    progress.close();
    if (cancel.signal.aborted) throw cancel.error();
    if (err instanceof KilnError && err.location) Object.assign(err, { sources: { [err.location.file]: await readBuildFile(req) } });
    throw err;
  } finally {
    for (const d of req.tempDirs) await removeAll(d);
  }
}
