/**
 * Worker creation, the one place that knows how each runtime finds a worker's code.
 * In a Bun-compiled binary, worker entry points are embedded and addressed by their path
 * relative to the common root of the build's entry points (src/); from source, by URL.
 */
// Bun 1.4 names a compiled module by its source path (file:///…/src/…), so only the entry's
// name tells: /$bunfs/root/… inside a binary. (A file: URL there would load the source
// from disk where a checkout exists.)
const main = String((globalThis as { Bun?: { main?: string } }).Bun?.main ?? '');
const compiled = main.startsWith('/$bunfs/') || main.includes('~BUN') || import.meta.url.includes('$bunfs');

/** Starts a worker running `entry`, a path relative to src/ such as `./solver/worker.ts`. */
export function startWorker(entry: string): Worker {
  if (compiled) return new Worker(entry);
  return new Worker(new URL(`../${entry.replace(/^\.\//, '')}`, import.meta.url).href, { type: 'module' });
}

/** Worker entry points that scripts/build.ts must embed (paths relative to the repository). */
export const WORKER_ENTRIES = ['src/solver/worker.ts'];
