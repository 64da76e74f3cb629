/**
 * Progress events: every layer emits them, the CLI's printer shows them. Plain data,
 * so they can cross worker threads and be printed as rawjson unchanged.
 */
export type VertexStatus = 'started' | 'cached' | 'completed' | 'error';

export interface VertexEvent {
  type: 'vertex';
  digest: string;
  name: string;
  status: VertexStatus;
  /** ms since the epoch. */
  time: number;
  error?: string;
  /** Why the cache missed (only on 'started' of a vertex that runs). */
  reason?: string;
}

export interface LogEvent {
  type: 'log';
  digest: string;
  stream: 'stdout' | 'stderr';
  data: string;
  time: number;
}

export interface MessageEvent {
  type: 'warning' | 'info';
  message: string;
  time: number;
}

/**
 * Bytes moved by a transfer (a layer pulled, a blob pushed, an output written): the running
 * total, the size when known. Belongs to a step (`digest`) or to the build ('' : exports and
 * pushes). The last event of a transfer has `done`.
 */
export interface BytesEvent {
  type: 'bytes';
  digest: string;
  /** What moves, unique within the build (e.g. `pull sha256:…`). */
  id: string;
  /** What to show (`pulling sha256:3f4a…`). */
  name: string;
  current: number;
  total?: number;
  /** ms since the transfer started (for rates). */
  elapsed: number;
  done?: boolean;
  time: number;
}

/** The end of a build: what it did (every mode but quiet prints it; rawjson as its last event). */
export interface SummaryEvent {
  type: 'summary';
  /** Seconds, whole build. */
  seconds: number;
  ran: number;
  cached: number;
  warnings: number;
  /** Each output written: its kind, where, and the digest of what it holds. */
  outputs: { kind: string; dest?: string; digest?: string }[];
  time: number;
}

export type ProgressEvent = VertexEvent | LogEvent | MessageEvent | BytesEvent | SummaryEvent;

const BYTES_EVERY_MS = 200;

/**
 * A throttled reporter of one transfer's bytes: `add(n)` as chunks move (at most one event
 * every 200 ms), `done()` once at the end (always an event).
 */
export function bytesReporter(sink: ProgressSink, t: { digest: string; id: string; name: string; total?: number }, now = Date.now): { add(n: number): void; done(): void } {
  const start = now();
  let current = 0;
  let last = 0;
  const emit = (done: boolean) => sink.emit({ type: 'bytes', digest: t.digest, id: t.id, name: t.name, current, total: t.total, elapsed: now() - start, ...(done ? { done } : {}), time: now() });
  return {
    add(n) {
      current += n;
      if (now() - last < BYTES_EVERY_MS) return;
      last = now();
      emit(false);
    },
    done() {
      emit(true);
    },
  };
}

export interface ProgressSink {
  emit(e: ProgressEvent): void;
  /** Flushes and stops; the sink emits nothing after this. */
  close(): void;
}

export const nullProgress: ProgressSink = { emit() {}, close() {} };
