import { join } from 'node:path';
import { resolveStateDir } from '../store/index.ts';
import { openStoreAfterCrash } from './open-store.ts';
import { diskUsage, treeSize } from '../store/usage.ts';
import { prune } from '../store/gc.ts';
import { usageError } from '../util/errors.ts';
import { many } from './parse-flags.ts';

const UNITS: Record<string, number> = { b: 1, k: 1024, kb: 1024, m: 1024 ** 2, mb: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3, t: 1024 ** 4, tb: 1024 ** 4 };

/** `10GB`, `512m`, `1024` → bytes. */
export function parseSize(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(s.trim());
  const unit = UNITS[(m?.[2] || 'b').toLowerCase()];
  if (!m || !unit) throw usageError(`invalid size "${s}"`, 'e.g. 10GB, 512MB');
  return Math.round(Number(m[1]) * unit);
}

/** `24h`, `30m`, `7d`, `90s` → ms. */
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

/** `kiln du`: usage by kind; --verbose lists each record. */
export async function runDu(flags: { root?: string; verbose?: boolean }): Promise<void> {
  const store = await openStoreAfterCrash(resolveStateDir(flags.root));
  try {
    const recs = await diskUsage(store.db, store.layout);
    if (flags.verbose) {
      process.stdout.write(`${'ID'.padEnd(72)} ${'SIZE'.padStart(9)} ${'SHARED'.padStart(6)}  LAST USED             DESCRIPTION\n`);
      for (const r of recs.sort((a, b) => b.size - a.size)) {
        const last = r.lastUsed ? new Date(r.lastUsed).toISOString().slice(0, 19) : '-'.padEnd(19);
        process.stdout.write(`${`${r.kind}:${r.id}`.padEnd(72)} ${formatBytes(r.size).padStart(9)} ${String(r.shared).padStart(6)}  ${last}   ${r.description ?? ''}\n`);
      }
      process.stdout.write('\n');
    }
    const sum = (k: string) => recs.filter((r) => r.kind === k).reduce((a, r) => a + r.size, 0);
    process.stdout.write(`${'KIND'.padEnd(14)}${'COUNT'.padStart(7)}${'SIZE'.padStart(11)}\n`);
    for (const [label, kind] of [['layers', 'layer'], ['blobs', 'blob']] as const) {
      process.stdout.write(`${label.padEnd(14)}${String(recs.filter((r) => r.kind === kind).length).padStart(7)}${formatBytes(sum(kind)).padStart(11)}\n`);
    }
    process.stdout.write(`${'cache mounts'.padEnd(14)}${'0'.padStart(7)}${formatBytes(0).padStart(11)}\n`);
    process.stdout.write(`${'total'.padEnd(14)}${''.padStart(7)}${formatBytes(sum('layer') + sum('blob')).padStart(11)}\n`);
  } finally {
    store.close();
  }
}

/** `kiln prune`: removes build cache (all, older than, or beyond a size) and what nothing uses any more. */
export async function runPrune(flags: { root?: string; all?: boolean; filter?: unknown; keepStorage?: string }): Promise<void> {
  let olderThanMs: number | undefined;
  for (const f of many(flags.filter)) {
    const [k, v] = f.split('=', 2);
    if (k !== 'until' || !v) throw usageError(`unsupported filter "${f}"`, 'use --filter until=DURATION, e.g. until=24h');
    olderThanMs = parseDuration(v);
  }
  const keepBytes = flags.keepStorage ? parseSize(flags.keepStorage) : undefined;
  if (!flags.all && olderThanMs === undefined && keepBytes === undefined) {
    throw usageError('kiln prune needs --all, --filter until=DURATION or --keep-storage SIZE');
  }
  const store = await openStoreAfterCrash(resolveStateDir(flags.root));
  try {
    const before = (await diskUsage(store.db, store.layout)).reduce((a, r) => a + r.size, 0);
    const r = await prune(store.db, store.layout, {
      all: flags.all,
      olderThanMs,
      keepBytes,
      sizeOf: (id) => treeSize(join(store.layout.snapshots, id)),
    });
    const after = (await diskUsage(store.db, store.layout)).reduce((a, x) => a + x.size, 0);
    process.stdout.write(`removed ${r.records} cache records, ${r.snapshots} snapshots, ${r.blobs} blobs; reclaimed ${formatBytes(Math.max(0, before - after))}\n`);
  } finally {
    store.close();
  }
}
