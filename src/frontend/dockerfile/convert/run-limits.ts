/**
 * The `ulimit` and `shm-size` frontend options (buildx's --ulimit, --shm-size), parsed as
 * BuildKit's dockerui does: ulimit is a CSV of NAME=SOFT[:HARD] (docker/go-units rules, -1 for
 * unlimited), shm-size a byte count.
 */
import { KilnError } from '../../api.ts';
import type { Ulimit } from '../../api.ts';
const NAMES = ['core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss', 'rtprio', 'rttime', 'sigpending', 'stack'];

const usage = (message: string) => new KilnError(message, { kind: 'usage', hint: 'e.g. --ulimit nofile=1024:2048 (NAME=SOFT[:HARD], -1 for unlimited)' });

function parseLimit(v: string, field: string): number {
  if (!/^[+-]?\d+$/.test(v)) throw usage(`invalid ulimit value "${v}" in "${field}"`);
  return Number(v);
}

export function parseUlimits(v: string): Ulimit[] {
  const out: Ulimit[] = [];
  for (const field of v.split(',').map((s) => s.trim()).filter(Boolean)) {
    const eq = field.indexOf('=');
    if (eq < 0) throw usage(`invalid ulimit argument: ${field}`);
    const name = field.slice(0, eq);
    if (!NAMES.includes(name)) throw usage(`invalid ulimit type: ${name}`);
    const vals = field.slice(eq + 1).split(':');
    if (vals.length > 2) throw usage(`too many limit value arguments - ${field.slice(eq + 1)}, can only have up to two, \`soft[:hard]\``);
    const soft = parseLimit(vals[0]!, field);
    const hard = vals.length === 2 ? parseLimit(vals[1]!, field) : soft;
    if (hard !== -1 && soft > hard) throw usage(`ulimit soft limit must be less than or equal to hard limit: ${soft} > ${hard}`);
    out.push({ name, soft, hard });
  }
  return out;
}

/** Bytes, or 0 (the runtime's default 64 MiB) when unset. */
export function parseShmSize(v: string | undefined): number {
  if (!v) return 0;
  if (!/^\d+$/.test(v)) throw new KilnError(`invalid shm-size "${v}": want a number of bytes`, { kind: 'usage', hint: 'e.g. --shm-size 128m' });
  return Number(v);
}
