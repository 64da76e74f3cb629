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
  const progress: ProgressSink =
    req.progress === 'quiet' || req.progress === 'none'
      ? nullProgress
      : req.progress === 'rawjson'
        ? createRawJsonPrinter((s) => process.stderr.write(s))
        : req.progress === 'tty' || (req.progress === 'auto' && process.stderr.isTTY)
          ? createTtyPrinter(process.stderr)
          : createPlainPrinter((s) => process.stderr.write(s));
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const started = Date.now();
  try {
    const out = await runBuild(req, progress, abort.signal);
    progress.close();
    if (req.progress === 'quiet') {
      if (out.imageId) process.stdout.write(`${out.imageId}\n`);
    } else if (req.progress !== 'none' && req.progress !== 'rawjson') {
      process.stderr.write(`done in ${((Date.now() - started) / 1000).toFixed(2)}s: ${out.ran} steps run, ${out.cached} cached\n`);
    }
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
