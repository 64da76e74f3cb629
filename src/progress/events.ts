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

export type ProgressEvent = VertexEvent | LogEvent | MessageEvent;

export interface ProgressSink {
  emit(e: ProgressEvent): void;
  /** Flushes and stops; the sink emits nothing after this. */
  close(): void;
}

export const nullProgress: ProgressSink = { emit() {}, close() {} };
