/**
 * Tries `fn` up to `attempts` times while `retryable(err)` says its failure may pass (a stall,
 * a dropped connection), waiting 250 ms, 500 ms, 1 s, ... in between; never once `signal` has
 * aborted. The last failure is thrown as it was.
 */
export async function withRetries<T>(attempts: number, retryable: (err: unknown) => boolean, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt + 1 >= attempts || signal?.aborted || !retryable(err)) throw err;
      await new Promise((r) => setTimeout(r, 250 * 2 ** attempt));
    }
  }
}
