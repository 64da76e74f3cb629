/**
 * `kiln build --call targets|outline[,format=json]` (buildx's subrequests): asks the frontend
 * and prints its answer as buildx does, or as JSON. `--call check` is `--check`; `--call build`
 * is a build.
 */
import type { OutlineResult, TargetsResult } from '../frontend/api.ts';
import { createImageResolver } from '../source/image-resolver.ts';
import { KilnError, usageError } from '../util/errors.ts';
import { loadFrontend } from './build.ts';
import { createFrontendContext } from './frontend-context.ts';
import { registryClientFor } from './registry-client.ts';
import type { BuildRequest } from './request.ts';

export const CALLS = ['build', 'check', 'targets', 'outline'] as const;

/** `targets`, `outline,format=json`, ... → the request name and whether JSON is wanted. */
export function parseCall(spec: string): { name: (typeof CALLS)[number]; json: boolean } {
  const [name, ...attrs] = spec.split(',');
  if (!(CALLS as readonly string[]).includes(name!)) throw usageError(`invalid --call "${spec}"`, `use one of: ${CALLS.join(', ')}`);
  let json = false;
  for (const a of attrs) {
    if (a === 'format=json') json = true;
    else if (a !== 'format=text' && a !== '') throw usageError(`invalid --call attribute "${a}"`, 'format=json or format=text');
  }
  return { name: name as (typeof CALLS)[number], json };
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]! + 3))).join('').trimEnd()).join('\n') + '\n';
}

export function formatTargets(t: TargetsResult): string {
  if (t.targets.length === 0) return 'no named targets\n';
  return table([['TARGET', 'DESCRIPTION'], ...t.targets.map((x) => [`${x.name}${x.default ? ' (default)' : ''}`, x.description ?? ''])]);
}

export function formatOutline(o: OutlineResult): string {
  let s = '';
  if (o.name) s += `TARGET:      ${o.name}\n`;
  if (o.description) s += `DESCRIPTION: ${o.description}\n`;
  if (s) s += '\n';
  if (o.args.length) s += table([['BUILD ARG', 'VALUE', 'DESCRIPTION'], ...o.args.map((a) => [a.name, a.value ?? '<undefined>', a.description ?? ''])]) + '\n';
  if (o.secrets.length) s += table([['SECRET', 'REQUIRED'], ...o.secrets.map((x) => [x.name, x.required ? 'true' : ''])]) + '\n';
  if (o.ssh.length) s += table([['SSH', 'REQUIRED'], ...o.ssh.map((x) => [x.name, x.required ? 'true' : ''])]) + '\n';
  return s || 'nothing to declare\n';
}

export async function runCall(req: BuildRequest, name: 'targets' | 'outline', json: boolean): Promise<void> {
  const loaded = await loadFrontend(req);
  if (!loaded.frontend.call) {
    throw new KilnError(`frontend ${loaded.label} does not answer --call ${name}`, { kind: 'usage', hint: 'a frontend answers subrequests with call(request, ctx) (see docs/frontends.md)' });
  }
  const ctx = createFrontendContext(req, createImageResolver(registryClientFor(req)), () => {});
  const result = await loaded.frontend.call(name, ctx);
  if (json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else process.stdout.write(name === 'targets' ? formatTargets(result as TargetsResult) : formatOutline(result as OutlineResult));
}
