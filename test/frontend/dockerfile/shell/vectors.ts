/**
 * Locates BuildKit's conformance vectors at `../shared/conformance-vectors` relative to the repo
 * root. When they are missing, the suites that need them fail loudly (never pass silently).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
export const vectorsDir = resolve(repoRoot, '../shared/conformance-vectors');

/** Absolute path of a vector file; throws a clear error when the vectors folder is missing. */
export function vectorPath(...parts: string[]): string {
  if (!existsSync(vectorsDir)) {
    throw new Error(`conformance vectors not found at ${vectorsDir} (expected ../shared/conformance-vectors next to the repo)`);
  }
  return join(vectorsDir, ...parts);
}

export function readVectorJson<T>(...parts: string[]): T {
  return JSON.parse(readFileSync(vectorPath(...parts), 'utf8')) as T;
}

/** `K=V` strings → env map (first `=` splits). */
export function envOf(list: readonly string[]): Map<string, string> {
  const env = new Map<string, string>();
  for (const kv of list) {
    const i = kv.indexOf('=');
    if (i < 0) env.set(kv, '');
    else env.set(kv.slice(0, i), kv.slice(i + 1));
  }
  return env;
}
