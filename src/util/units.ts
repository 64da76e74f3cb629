import { usageError } from './errors.ts';

const UNITS: Record<string, number> = { b: 1, k: 1024, kb: 1024, m: 1024 ** 2, mb: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3, t: 1024 ** 4, tb: 1024 ** 4 };

/** `10GB`, `512m`, `1024` → bytes (binary units, as docker's --keep-storage). */
export function parseSize(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(s.trim());
  const unit = UNITS[(m?.[2] || 'b').toLowerCase()];
  if (!m || !unit) throw usageError(`invalid size "${s}"`, 'e.g. 10GB, 512MB');
  return Math.round(Number(m[1]) * unit);
}

/** `24h`, `30m`, `7d`, `1h30m`, `90s` → ms. */
export function parseDuration(s: string): number {
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    total += Number(m[1]) * { ms: 1, s: 1e3, m: 6e4, h: 3.6e6, d: 8.64e7 }[m[2] as 'ms']!;
    matched = re.lastIndex;
  }
  if (!s || matched !== s.length) throw usageError(`invalid duration "${s}"`, 'e.g. 24h, 30m, 7d');
  return total;
}

export function formatBytes(n: number): string {
  const u = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < u.length - 1) {
    n /= 1000;
    i++;
  }
  return `${n.toFixed(i ? 1 : 0)}${u[i]}`;
}
