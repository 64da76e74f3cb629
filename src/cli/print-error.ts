import pc from 'picocolors';
import { KilnError, errorMessage } from '../util/errors.ts';

/**
 * Prints an error once, for people: the message, the build-file excerpt with a marker
 * on the failing lines, the last lines of output, and a hint.
 */
export function formatError(err: unknown, sources: Record<string, string> = {}): string {
  const lines: string[] = [];
  lines.push(pc.red(`ERROR: ${errorMessage(err)}`));
  if (err instanceof KilnError) {
    const loc = err.location;
    if (loc) {
      const text = sources[loc.file];
      lines.push('', `${loc.file}:${loc.startLine}${loc.endLine > loc.startLine ? `-${loc.endLine}` : ''}`);
      if (text) {
        const all = text.replace(/\n$/, '').split('\n');
        const from = Math.max(1, loc.startLine - 2);
        const to = Math.min(all.length, loc.endLine + 2);
        const w = String(to).length;
        lines.push('--------------------');
        for (let n = from; n <= to; n++) {
          const mark = n >= loc.startLine && n <= loc.endLine ? '>>>' : '   ';
          lines.push(` ${String(n).padStart(w)} | ${mark} ${all[n - 1] ?? ''}`);
        }
        lines.push('--------------------');
      }
    }
    if (err.details?.length) {
      lines.push('', 'last lines of output:');
      for (const d of err.details) lines.push(`  ${d}`);
    }
    if (err.hint) lines.push('', pc.dim(`hint: ${err.hint}`));
  } else if (err instanceof Error && process.env.KILN_DEBUG && err.stack) {
    lines.push(err.stack);
  }
  return `${lines.join('\n')}\n`;
}
