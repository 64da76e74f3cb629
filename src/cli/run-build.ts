import { createPlainPrinter } from '../progress/plain.ts';
import { createRawJsonPrinter } from '../progress/rawjson.ts';
import { createTtyPrinter } from '../progress/tty.ts';
import { nullProgress, type ProgressSink } from '../progress/events.ts';
import { KilnError } from '../util/errors.ts';
import { removeAll } from '../util/fs.ts';
import { buildRequestFromFlags, readBuildFile, type BuildFlags } from './build-command.ts';
import { runBuild } from './build.ts';
import { parseCall, runCall } from './call.ts';

/** `kiln build`: flags → request → build, with progress on stderr and Ctrl-C cancelling. */
export async function runBuildCommand(context: string | undefined, flags: Record<string, unknown>): Promise<void> {
  const call = flags.call !== undefined ? parseCall(String(flags.call)) : undefined;
  const req = await buildRequestFromFlags(context, flags as BuildFlags);
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
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const started = Date.now();
  try {
    const out = await runBuild(req, progress, abort.signal);
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
    if (abort.signal.aborted) throw new KilnError('build canceled', { kind: 'canceled' });
    if (err instanceof KilnError && err.location) Object.assign(err, { sources: { [err.location.file]: await readBuildFile(req) } });
    throw err;
  } finally {
    for (const d of req.tempDirs) await removeAll(d);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
