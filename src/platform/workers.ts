/**
 * Worker creation, the one place that knows how each runtime finds a worker's code.
 * In a Bun-compiled binary, worker entry points are embedded and addressed by their path
 * relative to the common root of the build's entry points (src/); from source, by URL.
 */
const compiled = import.meta.url.includes('$bunfs') || import.meta.url.includes('~BUN');

/** Starts a worker running `entry`, a path relative to src/ such as `./solver/worker.ts`. */
export function startWorker(entry: string): Worker {
  if (compiled) return new Worker(entry);
  return new Worker(new URL(`../${entry.replace(/^\.\//, '')}`, import.meta.url).href, { type: 'module' });
}

/** Worker entry points that scripts/build.ts must embed (paths relative to the repository). */
export const WORKER_ENTRIES = ['src/solver/worker.ts'];
