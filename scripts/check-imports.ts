/**
 * Checks the import arrows of ../shared/ARCHITECTURE.md: each src/ folder imports only
 * the folders it may. Exits 1 listing every violation. Run by .ci/run.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const src = resolve(import.meta.dirname, '..', 'src');

/** folder → folders it may import (itself always allowed). `*` = anything. */
const ALLOWED: Record<string, string[] | '*'> = {
  cli: '*',
  frontend: ['llb', 'util'],
  llb: ['util'],
  solver: ['llb', 'store', 'snapshot', 'executor', 'source', 'progress', 'util', 'platform'],
  source: ['registry', 'oci', 'snapshot', 'store', 'util'],
  registry: ['oci', 'util'],
  oci: ['util'],
  snapshot: ['store', 'oci', 'util', 'platform'],
  executor: ['snapshot', 'util', 'platform'],
  store: ['oci', 'util'],
  exporter: ['store', 'snapshot', 'registry', 'oci', 'util', 'platform'],
  cache: ['store', 'snapshot', 'registry', 'oci', 'util'],
  progress: ['util'],
  platform: [],
  util: [],
};

/** The built-in Dockerfile frontend is a plugin like any other: it may import only the frontend API. */
const PLUGIN_DIRS = ['frontend/dockerfile/'];
const PLUGIN_API = 'frontend/api.ts';

/** Files that the rule treats specially: the solver core must not name concrete ops. */
const SOLVER_CORE_NO_OPS = ['solver/solve.ts', 'solver/types.ts'];

function* files(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* files(p);
    else if (p.endsWith('.ts')) yield p;
  }
}

const problems: string[] = [];
for (const file of files(src)) {
  const rel = relative(src, file);
  const folder = rel.split('/')[0]!;
  const allowed = ALLOWED[folder];
  if (allowed === undefined) {
    problems.push(`${rel}: folder "${folder}" is not in the architecture map`);
    continue;
  }
  const text = readFileSync(file, 'utf8');
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s+['"](\.[^'"]+)['"]/g)) {
    const target = relative(src, resolve(dirname(file), m[1]!));
    const to = target.split('/')[0]!;
    if (target.startsWith('..')) {
      problems.push(`${rel}: imports ${m[1]} from outside src/`);
      continue;
    }
    if (PLUGIN_DIRS.some((d) => rel.startsWith(d)) && target !== PLUGIN_API && !PLUGIN_DIRS.some((d) => target.startsWith(d))) {
      problems.push(`${rel}: the Dockerfile frontend may import only ${PLUGIN_API} of kiln (${target})`);
      continue;
    }
    if (to === folder) {
      if (SOLVER_CORE_NO_OPS.includes(rel) && target.startsWith('solver/ops/')) problems.push(`${rel}: the solver core imports a concrete op (${target})`);
      continue;
    }
    if (to === 'platform') continue; // the runtime seam: every layer may use it
    if (to === 'cli' && folder !== 'cli') problems.push(`${rel}: nothing may import cli/ (${target})`);
    else if (allowed !== '*' && !allowed.includes(to)) problems.push(`${rel}: ${folder}/ may not import ${to}/ (${target})`);
  }
  if (folder !== 'platform' && /\bBun\.|from ['"]bun:/.test(text) && !rel.endsWith('.test.ts')) problems.push(`${rel}: Bun-only APIs belong in src/platform/`);
}

if (problems.length) {
  console.error(`import rules broken (${problems.length}):\n${problems.map((p) => `  ${p}`).join('\n')}`);
  process.exit(1);
}
console.log('import rules: ok');
