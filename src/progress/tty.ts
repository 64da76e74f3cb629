import { createColors } from 'picocolors';
import type { BytesEvent, ProgressEvent, ProgressSink } from './events.ts';
import { summaryLines, transferText } from './format.ts';

interface Row {
  name: string;
  status: 'running' | 'done' | 'cached' | 'error';
  started: number;
  ended?: number;
  logs: string[];
  partial: string;
  /** Transfers of this step (or, for a build's own transfer, the row's one), by id: their last event. */
  transfers: Map<string, BytesEvent>;
}

const LOG_LINES = 6;
const FRAME_MS = 100;

/**
 * The live terminal view, like BuildKit's: a header `[+] Building 3.2s (4/5)`, one line per
 * step with its time, `CACHED`/`ERROR` markers, and the last lines of output of running
 * steps. Redraws at most every 100 ms (rendering never slows the build), fits the width
 * of the terminal, and leaves the final frame on screen.
 */
export function createTtyPrinter(out: NodeJS.WriteStream, now = Date.now): ProgressSink {
  // Colors for the stream written to (picocolors alone looks at stdout): off with NO_COLOR.
  const pc = createColors(!!out.isTTY && !process.env.NO_COLOR);
  const rows = new Map<string, Row>();
  const messages: string[] = [];
  let summary: string[] = [];
  const start = now();
  let drawn = 0;
  let dirty = false;
  let closed = false;
  const timer = setInterval(() => dirty && draw(false), FRAME_MS);
  (timer as { unref?: () => void }).unref?.();

  // Never wider than the terminal: a wrapped line would break the redraw (which counts lines).
  const width = () => Math.max(20, (out.columns || 80) - 1);
  const secs = (ms: number) => `${(ms / 1000).toFixed(1)}s`;
  const fit = (s: string, w: number) => (s.length > w ? `${s.slice(0, w - 1)}…` : s);

  function frame(final: boolean): string[] {
    const w = width();
    const list = [...rows.values()];
    const done = list.filter((r) => r.status !== 'running').length;
    const elapsed = secs(now() - start);
    const head = `[+] Building ${elapsed} (${done}/${list.length})${final ? ' FINISHED' : ''}`;
    const lines = [final ? pc.blue(fit(head, w)) : fit(head, w)];
    for (const r of list) {
      const time = r.status === 'cached' ? '0.0s' : secs((r.ended ?? now()) - r.started);
      const tag = r.status === 'cached' ? 'CACHED ' : r.status === 'error' ? 'ERROR ' : '';
      const text = fit(` => ${tag}${r.name}`, w - time.length - 1);
      const line = `${text.padEnd(w - time.length)}${time}`;
      lines.push(r.status === 'error' ? pc.red(line) : r.status === 'running' ? line : pc.blue(line));
      if (r.status === 'running' || r.status === 'error') {
        for (const t of r.transfers.values()) lines.push(pc.dim(fit(` => => ${transferText(t)}`, w)));
        const tail = [...r.logs, ...(r.partial ? [r.partial] : [])].slice(-LOG_LINES);
        for (const l of tail) lines.push(pc.dim(fit(` => => ${l}`, w)));
      }
    }
    return lines;
  }

  function draw(final: boolean): void {
    dirty = false;
    const lines = frame(final);
    let s = drawn ? `\x1b[${drawn}A` : '';
    for (const l of lines) s += `\x1b[2K${l}\n`;
    // Clear what the previous, longer frame left below.
    for (let i = lines.length; i < drawn; i++) s += '\x1b[2K\n';
    if (drawn > lines.length) s += `\x1b[${drawn - lines.length}A`;
    out.write(s);
    drawn = lines.length;
  }

  return {
    emit(e: ProgressEvent) {
      if (closed) return;
      if (e.type === 'vertex') {
        let r = rows.get(e.digest);
        if (!r) {
          r = { name: e.name, status: 'running', started: e.time, logs: [], partial: '', transfers: new Map() };
          rows.set(e.digest, r);
        }
        if (e.status === 'started') {
          // Also after `cached`: an imported cache record that could not be used runs the step.
          r.started = e.time;
          r.status = 'running';
        }
        else if (e.status === 'cached') r.status = 'cached';
        else if (e.status === 'completed') {
          r.status = 'done';
          r.ended = e.time;
        } else if (e.status === 'error') {
          r.status = 'error';
          r.ended = e.time;
        }
      } else if (e.type === 'log') {
        const r = rows.get(e.digest);
        if (!r) return;
        const parts = (r.partial + e.data).split('\n');
        r.partial = parts.pop() ?? '';
        r.logs.push(...parts);
        if (r.logs.length > LOG_LINES) r.logs.splice(0, r.logs.length - LOG_LINES);
      } else if (e.type === 'bytes') {
        // A step's transfer shows under it; a build's own (export, push) is a row of its own.
        const key = e.digest || `bytes:${e.id}`;
        let r = rows.get(key);
        if (!r && e.digest) return;
        if (!r) {
          r = { name: e.name, status: 'running', started: e.time - e.elapsed, logs: [], partial: '', transfers: new Map() };
          rows.set(key, r);
        }
        r.transfers.set(e.id, e);
        if (!e.digest && e.done) {
          r.status = 'done';
          r.ended = e.time;
        }
      } else if (e.type === 'summary') {
        summary = summaryLines(e);
      } else {
        messages.push(`${e.type === 'warning' ? pc.yellow('WARNING') : 'INFO'}: ${e.message}`);
      }
      dirty = true;
    },
    close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      draw(true);
      for (const m of messages) out.write(`${m}\n`);
      for (const l of summary) out.write(`${l}\n`);
    },
  };
}
