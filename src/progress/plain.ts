import type { ProgressEvent, ProgressSink } from './events.ts';

/**
 * BuildKit's plain output: `#N name`, `#N 0.123 line`, `#N DONE 1.2s`, `#N CACHED`,
 * `#N ERROR: msg`. One line per event; lines of a vertex are numbered in order of start.
 */
export function createPlainPrinter(write: (s: string) => void, now = Date.now): ProgressSink {
  const ids = new Map<string, { n: number; started: number }>();
  let next = 1;
  const start = now();
  const idOf = (digest: string, name: string) => {
    let v = ids.get(digest);
    if (!v) {
      v = { n: next++, started: now() };
      ids.set(digest, v);
      write(`#${v.n} ${name}\n`);
    }
    return v;
  };
  let partial = new Map<string, string>();
  return {
    emit(e: ProgressEvent) {
      if (e.type === 'vertex') {
        const v = idOf(e.digest, e.name);
        if (e.status === 'started') {
          v.started = e.time;
          if (e.reason) write(`#${v.n} cache miss: ${e.reason}\n`);
        } else if (e.status === 'cached') write(`#${v.n} CACHED\n`);
        else if (e.status === 'completed') write(`#${v.n} DONE ${((e.time - v.started) / 1000).toFixed(1)}s\n`);
        else write(`#${v.n} ERROR: ${e.error ?? 'failed'}\n`);
      } else if (e.type === 'log') {
        const v = ids.get(e.digest);
        const prefix = v ? `#${v.n}` : '#?';
        const t = ((e.time - (v?.started ?? start)) / 1000).toFixed(3);
        const text = (partial.get(e.digest) ?? '') + e.data;
        const lines = text.split('\n');
        partial.set(e.digest, lines.pop() ?? '');
        for (const line of lines) write(`${prefix} ${t} ${line}\n`);
      } else {
        write(`${e.type === 'warning' ? 'WARNING' : 'INFO'}: ${e.message}\n`);
      }
    },
    close() {
      for (const [digest, rest] of partial) if (rest) write(`#${ids.get(digest)?.n ?? '?'} ${rest}\n`);
      partial = new Map();
    },
  };
}
