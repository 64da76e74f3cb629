import type { ProgressEvent, ProgressSink } from './events.ts';

/**
 * `--progress rawjson`: every event as one JSON object per line, exactly as emitted
 * (the ProgressEvent types in events.ts are the schema).
 */
export function createRawJsonPrinter(write: (s: string) => void): ProgressSink {
  return {
    emit(e: ProgressEvent) {
      write(`${JSON.stringify(e)}\n`);
    },
    close() {},
  };
}
