/**
 * The Dockerfile fuzzer's worker: N seeded mutations of the repository's own Dockerfiles, each
 * parsed, linted and converted by the Dockerfile frontend exactly as `kiln debug llb` does it
 * (images resolved from the test registry), one JSON line per input on stdout. Run by
 * fuzz.test.ts as a child process, so that a hang is seen (no line in time) and killed.
 *
 *   bun test/security/fuzz/fuzz-runner.ts SEED COUNT REGISTRY_REF WORKDIR
 */
import { lstatSync, readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { buildRequestFromFlags } from '../../../src/cli/build-command.ts';
import { runFrontend } from '../../../src/cli/build.ts';
import { registryClientFor } from '../../../src/cli/registry-client.ts';
import { formatError } from '../../../src/cli/print-error.ts';
import { createImageResolver } from '../../../src/source/image-resolver.ts';
import { nullProgress } from '../../../src/progress/events.ts';
import { KilnError, exitCodeOf } from '../../../src/util/errors.ts';
import { mutate, prng } from './mutate.ts';

const [seedArg, countArg, registryRef, work] = process.argv.slice(2);
const seed = Number(seedArg);
const count = Number(countArg);
const repo = join(import.meta.dirname, '..', '..', '..');

function dockerfiles(dir: string, out: string[] = []): string[] {
  for (const n of readdirSync(dir)) {
    const p = join(dir, n);
    if (lstatSync(p).isDirectory()) dockerfiles(p, out);
    else if (n === 'Dockerfile') out.push(p);
  }
  return out;
}

/** Every FROM of an image (not scratch, a stage or a variable) names the test registry's busybox. */
function localized(text: string): string {
  const stages = new Set<string>();
  return text.replace(/^(\s*FROM\s+(?:--\S+\s+)*)(\S+)((?:\s+AS\s+(\S+))?)/gim, (all, pre: string, image: string, as: string, name?: string) => {
    const keep = image === 'scratch' || image.includes('$') || stages.has(image.toLowerCase());
    if (name) stages.add(name.toLowerCase());
    return keep ? all : `${pre}${registryRef}${as}`;
  });
}

const corpus = [...dockerfiles(join(repo, 'test', 'fixtures')), ...dockerfiles(join(repo, 'examples'))].map((p) => localized(readFileSync(p, 'utf8')));
const rnd = prng(seed);
const ctx = join(work, 'ctx');
mkdirSync(ctx, { recursive: true });
writeFileSync(join(ctx, 'f'), 'context file\n');
const registry = registryClientFor({ registry: { insecureHosts: [], mirrors: {}, network: { idleMs: 5000, lowSpeedBytesPerSec: 0, lowSpeedWindowMs: 5000, attempts: 1 } } });
const resolver = createImageResolver(registry);
/** What only JavaScript itself throws: a bug of kiln's, whatever wraps it. */
const JS_ERRORS = new Set(['TypeError', 'RangeError', 'ReferenceError', 'SyntaxError', 'AggregateError', 'EvalError', 'URIError']);

for (let i = 0; i < count; i++) {
  const text = mutate(corpus[Math.floor(rnd() * corpus.length)]!, corpus, rnd);
  writeFileSync(join(ctx, 'Dockerfile'), text);
  const t0 = performance.now();
  const line: Record<string, unknown> = { i };
  try {
    const req = await buildRequestFromFlags(ctx, {});
    const r = await runFrontend(req, resolver, nullProgress);
    JSON.stringify(r.definition);
    line.code = 0;
  } catch (err) {
    line.code = exitCodeOf(err);
    line.kilnError = err instanceof KilnError;
    line.kind = err instanceof KilnError ? err.kind : undefined;
    line.located = err instanceof KilnError && !!err.location;
    // (a registry that cannot be reached is a network error whatever the runtime threw for it:
    // Bun's are TypeErrors)
    let cause: unknown = err;
    for (let d = 0; d < 4 && cause; d++) {
      if (cause instanceof KilnError && (cause as { network?: boolean }).network) break;
      if (cause instanceof Error && JS_ERRORS.has(cause.name) && !(cause instanceof KilnError)) line.jsError = `${cause.name}: ${cause.message}`;
      cause = (cause as { cause?: unknown }).cause;
    }
    line.message = formatError(err).split('\n')[0]?.slice(0, 300);
    line.printed = formatError(err).slice(0, 2000);
  }
  line.ms = Math.round(performance.now() - t0);
  // Every 40th input also goes to the parent, to be run through the real binary.
  if (i % 40 === 0) {
    mkdirSync(join(work, 'sample', String(i)), { recursive: true });
    writeFileSync(join(work, 'sample', String(i), 'Dockerfile'), text);
  }
  if (line.code !== 0 && (line.jsError || !line.kilnError || line.kind === 'internal' || !line.located)) line.dockerfile = text;
  process.stdout.write(`${JSON.stringify(line)}\n`);
}
await registry.close();
process.exit(0);
