import type { ProgressEvent, ProgressSink } from './events.ts';
import { summaryLines, transferText } from './format.ts';

/**
 * BuildKit's plain output: `#N name`, `#N 0.123 line`, `#N DONE 1.2s`, `#N CACHED`,
 * `#N ERROR: msg`, transfers as `#N pulling sha256:… 1.2MB / 3.4MB 5.0MB/s`. One line per
 * event; lines of a vertex are numbered in order of start.
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
        else {
          // The step's last output line, if it had no newline, before its end.
          const rest = partial.get(e.digest);
          if (rest) write(`#${v.n} ${((e.time - v.started) / 1000).toFixed(3)} ${rest}\n`);
          partial.delete(e.digest);
          if (e.status === 'completed') write(`#${v.n} DONE ${((e.time - v.started) / 1000).toFixed(1)}s\n`);
          else write(`#${v.n} ERROR: ${e.error ?? 'failed'}\n`);
        }
      } else if (e.type === 'log') {
        const v = ids.get(e.digest);
        const prefix = v ? `#${v.n}` : '#?';
        const t = ((e.time - (v?.started ?? start)) / 1000).toFixed(3);
        const text = (partial.get(e.digest) ?? '') + e.data;
        const end = text.lastIndexOf('\n');
        partial.set(e.digest, text.slice(end + 1));
        // One write per chunk of output, prefixed in one native pass (a step printing 10,000 lines
        // would otherwise cost 10,000 syscalls, or 10,000 strings).
        if (end >= 0) {
          const head = `${prefix} ${t} `;
          write(`${head}${text.slice(0, end).replaceAll('\n', `\n${head}`)}\n`);
        }
      } else if (e.type === 'bytes') {
        // A step's transfer is a line of that step; a build's own (export, push) is a vertex of its own.
        const v = e.digest ? ids.get(e.digest) : idOf(`bytes:${e.id}`, e.name);
        write(`#${v?.n ?? '?'} ${e.digest ? transferText(e) : transferText({ ...e, name: '' }).trimStart()}\n`);
        if (!e.digest && e.done) write(`#${v!.n} DONE ${(e.elapsed / 1000).toFixed(1)}s\n`);
      } else if (e.type === 'summary') {
        for (const l of summaryLines(e)) write(`${l}\n`);
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
