/** How progress shows sizes, rates and the end of a build (shared by the plain and tty printers). */
import type { BytesEvent, SummaryEvent } from './events.ts';
import { formatBytes } from '../util/units.ts';

/** `pulling sha256:3f4a… 1.20MB / 3.40MB 12.0MB/s` (or `… 3.40MB done`). */
export function transferText(e: BytesEvent): string {
  const size = e.total !== undefined ? `${formatBytes(e.current)} / ${formatBytes(e.total)}` : formatBytes(e.current);
  if (e.done) return `${e.name} ${formatBytes(e.current)} done`;
  const rate = e.elapsed > 0 ? ` ${formatBytes((e.current * 1000) / e.elapsed)}/s` : '';
  return `${e.name} ${size}${rate}`;
}

/** The closing lines: `done in 1.23s: 3 steps run, 2 cached, 1 warning` and one per output written. */
export function summaryLines(e: SummaryEvent): string[] {
  const lines = [`done in ${e.seconds.toFixed(2)}s: ${e.ran} steps run, ${e.cached} cached, ${e.warnings} warning${e.warnings === 1 ? '' : 's'}`];
  for (const o of e.outputs) lines.push(`  ${o.kind}${o.dest ? ` ${o.dest}` : ''}${o.digest ? ` ${o.digest}` : ''}`);
  return lines;
}
