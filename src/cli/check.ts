import { registryClientFor } from './registry-client.ts';
import { createImageResolver } from '../source/image-resolver.ts';
import type { FrontendWarning } from '../frontend/api.ts';
import { RULES, type RuleName } from '../frontend/dockerfile/lint/index.ts';
import { KilnError } from '../util/errors.ts';
import type { BuildRequest } from './request.ts';
import { createFrontendContext } from './frontend-context.ts';
import { loadFrontend } from './build.ts';
import { runFrontendSafely } from './frontend-loader.ts';
import { readBuildFile } from './build-command.ts';

/**
 * `kiln build --check`: runs the build checks only (the frontend, no step runs) and prints
 * each warning with its rule, documentation link, and the Dockerfile line, like
 * `docker build --check`. Returns the exit code: 1 when anything was found.
 */
export async function runCheck(req: BuildRequest): Promise<number> {
  const warnings: FrontendWarning[] = [];
  const ctx = createFrontendContext(req, createImageResolver(registryClientFor(req)), (w) => warnings.push(w));
  const frontend = await loadFrontend(req);
  let failure: unknown;
  try {
    await runFrontendSafely(frontend, ctx);
  } catch (err) {
    failure = err;
  }
  const text = (await readBuildFile(req)).split('\n');
  const rules = warnings.filter((w) => w.rule);
  process.stdout.write(rules.length ? `Check complete, ${rules.length} warning${rules.length > 1 ? 's have' : ' has'} been found!\n` : 'Check complete, no warnings found.\n');
  for (const w of rules) {
    const rule = RULES[w.rule as RuleName];
    const message = w.message.replace(`${w.rule}: `, '').replace(/ \(line \d+\)$/, '');
    process.stdout.write(`\nWARNING: ${w.rule}${rule ? ` - ${rule.url}` : ''}\n${rule?.description ?? ''}\n${message}\n`);
    if (w.location) {
      process.stdout.write(`\n${w.location.file}:${w.location.startLine}\n--------------------\n`);
      for (let n = w.location.startLine; n <= w.location.endLine; n++) process.stdout.write(` ${n} | >>> ${text[n - 1] ?? ''}\n`);
      process.stdout.write('--------------------\n');
    }
  }
  if (failure && !(failure instanceof KilnError && failure.message.startsWith('lint violation'))) throw failure;
  return rules.length ? 1 : 0;
}
