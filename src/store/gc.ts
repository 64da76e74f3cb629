import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Db } from './db.ts';
import type { StateLayout } from './state-dir.ts';
import { removeAll } from '../util/fs.ts';
import { KilnError } from '../util/errors.ts';
import { isProcessAlive } from '../util/process.ts';
import { cacheMountSize, layerSize } from './usage.ts';
import { walkImage } from './image-walk.ts';

/** What a policy may remove: build cache records, or RUN --mount=type=cache directories. */
export type GcItemType = 'regular' | 'exec.cachemount';

/**
 * One GC rule, as BuildKit's gcpolicy: items (of `types`, default all) not used within
 * `keepDurationMs` may go, least recently used first. With no space limit every such item
 * goes; with limits, removal stops once the items in scope use at most `maxUsedBytes` and
 * the disk has `minFreeBytes` free, and never brings them below `reservedBytes`.
 */
export interface GcPolicy {
  types?: GcItemType[];
  keepDurationMs?: number;
  reservedBytes?: number;
  maxUsedBytes?: number;
  minFreeBytes?: number;
}

export interface PruneOptions {
  /** Remove every cache record and cache mount. */
  all?: boolean;
  /** Applied in order, each on what the previous ones left. */
  policies?: GcPolicy[];
  /** Free bytes on the state dir's file system (for minFreeBytes). */
  freeBytes?: () => Promise<number>;
}

export interface PruneResult {
  records: number;
  cacheMounts: number;
  snapshots: number;
  blobs: number;
}

interface Item {
  type: GcItemType;
  lastUsed: number;
  size: number;
  remove(): Promise<void>;
}

/** Other kiln processes that have this state dir open. */
export function otherProcesses(db: Db): number[] {
  const rows = db.prepare('SELECT pid FROM procs').all() as { pid: number }[];
  return rows.map((r) => r.pid).filter((p) => p !== process.pid && isProcessAlive(p));
}

/** The removable items: cache records (sized by their own layer) and cache mounts. */
async function gcItems(db: Db, layout: StateLayout, counts: PruneResult): Promise<Item[]> {
  const items: Item[] = [];
  const rows = db.prepare('SELECT c.key, c.output, c.last_used, s.id, s.fs_id, s.size FROM cache c LEFT JOIN snapshots s ON s.id = c.snapshot').all() as {
    key: string;
    output: number;
    last_used: number;
    id: string | null;
    fs_id: string | null;
    size: number | null;
  }[];
  const del = db.prepare('DELETE FROM cache WHERE key = ? AND output = ?');
  for (const r of rows) {
    const size = r.id ? await layerSize(db, layout, r.fs_id ?? r.id, r.fs_id ? undefined : r.size) : 0;
    items.push({
      type: 'regular',
      lastUsed: r.last_used,
      size,
      remove: async () => {
        counts.records += Number(del.run(r.key, r.output).changes);
      },
    });
  }
  const mounts = db.prepare('SELECT dir, last_used, size FROM cache_mounts').all() as { dir: string; last_used: number; size: number | null }[];
  for (const m of mounts) {
    items.push({
      type: 'exec.cachemount',
      lastUsed: m.last_used,
      size: await cacheMountSize(db, layout, m.dir, m.size),
      remove: async () => {
        db.prepare('DELETE FROM cache_mounts WHERE dir = ?').run(m.dir);
        await removeAll(join(layout.cacheMounts, m.dir));
        counts.cacheMounts++;
      },
    });
  }
  return items;
}

async function applyPolicy(items: Item[], p: GcPolicy, freeBytes: () => Promise<number>): Promise<Item[]> {
  const inScope = items.filter((i) => !p.types || p.types.includes(i.type));
  let used = inScope.reduce((a, i) => a + i.size, 0);
  let free = p.minFreeBytes !== undefined ? await freeBytes() : Infinity;
  const limited = p.maxUsedBytes !== undefined || p.minFreeBytes !== undefined;
  const over = () => (p.maxUsedBytes !== undefined && used > p.maxUsedBytes) || (p.minFreeBytes !== undefined && free < p.minFreeBytes);
  const now = Date.now();
  const candidates = inScope.filter((i) => p.keepDurationMs === undefined || now - i.lastUsed > p.keepDurationMs).sort((a, b) => a.lastUsed - b.lastUsed);
  const removed = new Set<Item>();
  for (const i of candidates) {
    if (limited && !over()) break;
    if (p.reservedBytes !== undefined && used - i.size < p.reservedBytes) break;
    await i.remove();
    removed.add(i);
    used -= i.size;
    free += i.size;
  }
  return items.filter((i) => !removed.has(i));
}

/**
 * Removes cache records and cache mounts (everything with `all`, else per the policies),
 * then every snapshot no remaining record reaches (through parents and shared layer dirs),
 * every blob no remaining snapshot uses and every layer dir no record names. Refuses
 * while another kiln process uses the state dir, so a running build never loses what it
 * uses. Records go first and files last: a crash midway leaves only unreferenced files.
 */
export async function prune(db: Db, layout: StateLayout, opts: PruneOptions): Promise<PruneResult> {
  const others = otherProcesses(db);
  if (others.length) {
    throw new KilnError(`${others.length} other kiln process(es) use this state dir (pid ${others.join(', ')}); prune when they are done`, { kind: 'runtime' });
  }
  const counts: PruneResult = { records: 0, cacheMounts: 0, snapshots: 0, blobs: 0 };
  let items = await gcItems(db, layout, counts);
  if (opts.all) {
    for (const i of items) await i.remove();
    items = [];
  }
  for (const p of opts.policies ?? []) items = await applyPolicy(items, p, opts.freeBytes ?? (async () => Infinity));
  await sweep(db, layout, counts);
  return counts;
}

/** Mark and sweep: snapshots, blobs and layer dirs that no remaining cache record reaches. */
async function sweep(db: Db, layout: StateLayout, counts: PruneResult): Promise<void> {
  const snaps = db.prepare('SELECT id, parent, fs_id, blob_digest FROM snapshots').all() as { id: string; parent: string | null; fs_id: string | null; blob_digest: string | null }[];
  const byId = new Map(snaps.map((s) => [s.id, s]));
  const live = new Set<string>();
  const mark = (id: string | null) => {
    while (id && !live.has(id)) {
      live.add(id);
      const s = byId.get(id);
      if (s?.fs_id) mark(s.fs_id);
      id = s?.parent ?? null;
    }
  };
  // Layers pulled from images stay while a kept snapshot builds on them (marked here).
  for (const r of db.prepare('SELECT snapshot FROM cache').all() as { snapshot: string | null }[]) mark(r.snapshot);
  // Layers of the image store kept as snapshots (built-layers.ts) stay while a name reaches them.
  const reached = await imageBlobs(db, layout);
  const built = db.prepare('SELECT chain_id, diff_id, snapshot FROM built_layers').all() as { chain_id: string; diff_id: string; snapshot: string }[];
  for (const b of built) if (reached.has(b.diff_id.slice('sha256:'.length))) mark(b.snapshot);
  const dead = snaps.filter((s) => !live.has(s.id));
  db.exec('BEGIN IMMEDIATE');
  try {
    const del = db.prepare('DELETE FROM snapshots WHERE id = ?');
    for (const s of dead) del.run(s.id);
    const delBuilt = db.prepare('DELETE FROM built_layers WHERE chain_id = ?');
    for (const b of built) if (!live.has(b.snapshot)) delBuilt.run(b.chain_id);
    db.exec('COMMIT');
  } catch (err) {
    db.exec('ROLLBACK');
    throw err;
  }
  counts.snapshots += dead.length;
  // Removed side by side (the file system's work overlaps; one by one cost a build 4-9 ms for 8 small layers).
  await Promise.all(dead.filter((s) => !s.fs_id).map((s) => removeAll(join(layout.snapshots, s.id))));
  // Layer dirs no record names: a crash between moving a snapshot into place and recording it.
  const named = new Set(snaps.filter((s) => live.has(s.id)).map((s) => s.fs_id ?? s.id));
  for (const name of await readdir(layout.snapshots).catch(() => [] as string[])) {
    if (/^[0-9a-f]{12}$/.test(name) && !named.has(name)) await removeAll(join(layout.snapshots, name));
  }
  const keepBlobs = new Set(snaps.filter((s) => live.has(s.id) && s.blob_digest).map((s) => s.blob_digest!.slice('sha256:'.length)));
  for (const hex of reached) keepBlobs.add(hex);
  for (const name of await readdir(layout.blobs).catch(() => [] as string[])) {
    if (keepBlobs.has(name) || !/^[0-9a-f]{64}$/.test(name)) continue;
    await removeAll(join(layout.blobs, name));
    counts.blobs++;
  }
  // Cache mount dirs without a record (made before kiln recorded them, or a crash).
  const mounts = new Set((db.prepare('SELECT dir FROM cache_mounts').all() as { dir: string }[]).map((m) => m.dir));
  for (const name of await readdir(layout.cacheMounts).catch(() => [] as string[])) {
    if (/^[0-9a-f]{32}$/.test(name) && !mounts.has(name)) await removeAll(join(layout.cacheMounts, name));
  }
}


/**
 * Every blob the local image store's names reach: indexes, manifests, configs, layers.
 * Kept by GC whatever the build cache holds.
 */
export async function imageBlobs(db: Db, layout: StateLayout): Promise<Set<string>> {
  const out = new Set<string>();
  const read = (d: string) => readFile(join(layout.blobs, d.replace(/^sha256:/, ''))).catch(() => undefined);
  for (const r of db.prepare('SELECT digest, media_type FROM images').all() as { digest: string; media_type: string }[]) {
    const g = await walkImage({ digest: r.digest, mediaType: r.media_type }, read);
    for (const d of [...g.nodes.map((n) => n.digest), ...g.leaves.map((l) => l.digest)]) out.add(d.replace(/^sha256:/, ''));
  }
  return out;
}
