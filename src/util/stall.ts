/**
 * Stall detection for network transfers: a peer that never answers, stops sending in the
 * middle of a body, trickles a few bytes at a time, or stops reading an upload. Bun's built-in
 * undici ignores an Agent's timeouts, so kiln watches every exchange itself: a watchdog per
 * request aborts it when nothing moved for `idleMs` (headers, body or upload alike), or when
 * fewer than `lowSpeedBytesPerSec` moved on average over `lowSpeedWindowMs` (curl's
 * --speed-limit / --speed-time). The abort's reason is a StallError (code KILN_STALL), which
 * callers retry like a reset connection and finally report naming the host. A canceled build
 * (the `cancel` signal) ends every watched transfer at once.
 */
import { Transform } from 'node:stream';
import { KilnError } from './errors.ts';

export interface StallLimits {
  /** No byte in either direction for this long: stalled. */
  idleMs: number;
  /** Slower than this on average over lowSpeedWindowMs: stalled (0: no floor). */
  lowSpeedBytesPerSec: number;
  lowSpeedWindowMs: number;
}

/** The defaults (kiln.toml [network] changes them): 30 s idle, 10 KiB/s over 30 s. */
export const DEFAULT_STALL_LIMITS: StallLimits = { idleMs: 30_000, lowSpeedBytesPerSec: 10 << 10, lowSpeedWindowMs: 30_000 };

export class StallError extends Error {
  override name = 'StallError';
  readonly code = 'KILN_STALL';
}

export interface Watchdog {
  /** Aborts when the transfer stalls (reason: a StallError) or the build is canceled. */
  readonly signal: AbortSignal;
  /** `n` bytes moved (either way). */
  progress(n: number): void;
  /** The transfer ended: no more checks, and no more listening to the cancel signal. Idempotent. */
  stop(): void;
  /** Why the watchdog aborted (a StallError, or the canceled build's error); else `err` as it was. */
  explain(err: unknown): unknown;
}

/** The error a transfer ends with when its build is canceled. */
export const canceledTransfer = () => new KilnError('build canceled', { kind: 'canceled' });

/**
 * A watchdog for one exchange with `host`, started now. `cancel` (a build's signal) aborts it
 * too; the watchdog stops listening to it when it stops, so a long build's signal does not
 * collect a listener per request.
 */
export function watchTransfer(host: string, limits: StallLimits = DEFAULT_STALL_LIMITS, cancel?: AbortSignal): Watchdog {
  const ctrl = new AbortController();
  let last = Date.now();
  let windowStart = last;
  let windowBytes = 0;
  let fired: Error | undefined;
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    clearInterval(timer);
    cancel?.removeEventListener('abort', onCancel);
  };
  const end = (reason: Error) => {
    if (stopped) return;
    fired = reason;
    stop();
    ctrl.abort(reason);
  };
  const onCancel = () => end(canceledTransfer());
  const tick = Math.max(20, Math.min(1000, Math.floor(limits.idleMs / 4), limits.lowSpeedWindowMs ? Math.floor(limits.lowSpeedWindowMs / 4) : 1000));
  const timer = setInterval(() => {
    const now = Date.now();
    if (now - last >= limits.idleMs) return end(new StallError(`${host} stalled: no data for ${seconds(now - last)}`));
    if (limits.lowSpeedBytesPerSec > 0 && now - windowStart >= limits.lowSpeedWindowMs) {
      const rate = (windowBytes * 1000) / (now - windowStart);
      if (rate < limits.lowSpeedBytesPerSec) {
        return end(new StallError(`${host} stalled: ${Math.round(rate)} bytes/s for ${seconds(now - windowStart)}, below the floor of ${limits.lowSpeedBytesPerSec} bytes/s`));
      }
      windowStart = now;
      windowBytes = 0;
    }
  }, tick);
  (timer as { unref?: () => void }).unref?.();
  if (cancel?.aborted) end(canceledTransfer());
  else cancel?.addEventListener('abort', onCancel, { once: true });
  return {
    signal: ctrl.signal,
    progress(n) {
      last = Date.now();
      windowBytes += n;
    },
    stop,
    explain: (err) => fired ?? err,
  };
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;

/** A pass-through that tells `dog` of every chunk it hands on (an upload body, as the peer reads it). */
export function watchedUpload(dog: Watchdog): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      dog.progress(chunk.length);
      cb(null, chunk);
    },
  });
}
