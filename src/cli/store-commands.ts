import { ensureReserve, resolveStateDir, withSpace } from '../store/index.ts';
import { openStoreAfterCrash } from './open-store.ts';
import { diskUsage } from '../store/usage.ts';
import { prune, type GcPolicy } from '../store/gc.ts';
import { usageError } from '../util/errors.ts';
import { formatBytes, parseDuration, parseSize } from '../util/units.ts';
import { diskOf, loadConfig } from './config.ts';

/** The state dir of a store command: --root, KILN_ROOT, the config file's root, the default. */
async function storeRoot(flags: { root?: string; config?: string }): Promise<string> {
  return resolveStateDir(flags.root, process.env, (await loadConfig(flags.config)).root);
}
import { many } from './parse-flags.ts';

/** `kiln du`: usage by kind; --verbose lists each record. */
export async function runDu(flags: { root?: string; config?: string; verbose?: boolean }): Promise<void> {
  const store = await openStoreAfterCrash(await storeRoot(flags));
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
    for (const [label, kind] of [['layers', 'layer'], ['blobs', 'blob'], ['cache mounts', 'cachemount']] as const) {
      process.stdout.write(`${label.padEnd(14)}${String(recs.filter((r) => r.kind === kind).length).padStart(7)}${formatBytes(sum(kind)).padStart(11)}\n`);
    }
    // Images hold blobs: their size is the bytes of the blobs they reach (each blob once), part of `blobs`.
    const images = recs.filter((r) => r.kind === 'image');
    const blobSize = new Map(recs.filter((r) => r.kind === 'blob').map((r) => [r.id, r.size]));
    const imageBytes = [...new Set(images.flatMap((r) => r.blobs ?? []))].reduce((a, d) => a + (blobSize.get(d) ?? 0), 0);
    process.stdout.write(`${'images'.padEnd(14)}${String(images.length).padStart(7)}${formatBytes(imageBytes).padStart(11)}  (of blobs)\n`);
    process.stdout.write(`${'total'.padEnd(14)}${''.padStart(7)}${formatBytes(sum('layer') + sum('blob') + sum('cachemount')).padStart(11)}\n`);
  } finally {
    store.close();
  }
}

/**
 * `kiln prune`: `--all` removes all build cache and cache mounts; `--filter until=D` what
 * was not used for D; `--keep-storage S` the least recently used beyond S (both: the old
 * ones beyond S). Then whatever nothing uses any more.
 */
export async function runPrune(flags: { root?: string; config?: string; all?: boolean; filter?: unknown; keepStorage?: string }): Promise<void> {
  let keepDurationMs: number | undefined;
  for (const f of many(flags.filter)) {
    const [k, v] = f.split('=', 2);
    if (k !== 'until' || !v) throw usageError(`unsupported filter "${f}"`, 'use --filter until=DURATION, e.g. until=24h');
    keepDurationMs = parseDuration(v);
  }
  const maxUsedBytes = flags.keepStorage ? parseSize(flags.keepStorage) : undefined;
  if (!flags.all && keepDurationMs === undefined && maxUsedBytes === undefined) {
    throw usageError('kiln prune needs --all, --filter until=DURATION or --keep-storage SIZE');
  }
  const store = await openStoreAfterCrash(await storeRoot(flags));
  try {
    const before = (await diskUsage(store.db, store.layout)).filter((r) => r.kind !== 'image').reduce((a, r) => a + r.size, 0);
    const policies: GcPolicy[] = flags.all ? [] : [{ keepDurationMs, maxUsedBytes }];
    const r = await withSpace(store.layout.root, () => prune(store.db, store.layout, { all: flags.all, policies, freeBytes: async () => (await diskOf(store.layout.root)).free }));
    await ensureReserve(store.layout.root);
    const after = (await diskUsage(store.db, store.layout)).filter((x) => x.kind !== 'image').reduce((a, x) => a + x.size, 0);
    process.stdout.write(
      `removed ${r.records} cache records, ${r.cacheMounts} cache mounts, ${r.snapshots} snapshots, ${r.blobs} blobs; reclaimed ${formatBytes(Math.max(0, before - after))}\n`,
    );
  } finally {
    store.close();
  }
}
