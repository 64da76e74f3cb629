/**
 * Progress from inside a worker task: the worker sets the reporter of the task it runs (one at a
 * time per worker); a task reads it with taskProgress() and calls it with byte counts. Reports
 * reach the pool's caller at most every REPORT_EVERY_MS, and once more when the task ends.
 */
const REPORT_EVERY_MS = 100;

let current: ((n: number) => void) | undefined;

/** The running task's byte reporter (a no-op outside a worker, or when nobody listens). */
export function taskProgress(): (n: number) => void {
  return current ?? (() => {});
}

/** Runs `fn` with `post(bytesSinceLastPost)` as the task's reporter, throttled; flushes at the end. */
export async function withTaskProgress<T>(post: (n: number) => void, fn: () => Promise<T>): Promise<T> {
  let pending = 0;
  let last = Date.now();
  current = (n) => {
    pending += n;
    const now = Date.now();
    if (now - last < REPORT_EVERY_MS) return;
    last = now;
    post(pending);
    pending = 0;
  };
  try {
    return await fn();
  } finally {
    current = undefined;
    if (pending) post(pending);
  }
}
