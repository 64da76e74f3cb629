import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Db } from './db.ts';
import type { StateLayout } from './state-dir.ts';
import { removeAll } from '../util/fs.ts';
import { KilnError } from '../util/errors.ts';
import { isProcessAlive } from '../util/process.ts';

export interface PruneOptions {
  /** Remove every cache record. */
  all?: boolean;
  /** Remove cache records not used for this many ms. */
  olderThanMs?: number;
  /** Then remove least recently used records until the rest fits (bytes). */
  keepBytes?: number;
  /** Sizes of snapshot layer dirs, for keepBytes (id → bytes). */
  sizeOf?: (snapshotId: string) => Promise<number>;
}

export interface PruneResult {
  records: number;
  snapshots: number;
  blobs: number;
}

/** Other kiln processes that have this state dir open. */
export function otherProcesses(db: Db): number[] {
  const rows = db.prepare('SELECT pid FROM procs').all() as { pid: number }[];
  return rows.map((r) => r.pid).filter((p) => p !== process.pid && isProcessAlive(p));
}

/**
 * Removes cache records (per the options), then every snapshot no remaining record reaches
 * (through parents and shared layer dirs) and every blob no remaining snapshot uses. Refuses
 * while another kiln process uses the state dir, so a running build never loses what it uses.
 * Records go first and files last: a crash midway leaves only unreferenced files.
 */
export async function prune(db: Db, layout: StateLayout, opts: PruneOptions): Promise<PruneResult> {
  const others = otherProcesses(db);
  if (others.length) {
    throw new KilnError(`${others.length} other kiln process(es) use this state dir (pid ${others.join(', ')}); prune when they are done`, { kind: 'runtime' });
  }
  let records = 0;
  if (opts.all) records += Number(db.prepare('DELETE FROM cache').run().changes);
  if (opts.olderThanMs !== undefined) records += Number(db.prepare('DELETE FROM cache WHERE last_used < ?').run(Date.now() - opts.olderThanMs).changes);
  if (opts.keepBytes !== undefined && opts.sizeOf) {
    const rows = db.prepare('SELECT key, output, snapshot FROM cache ORDER BY last_used DESC').all() as { key: string; output: number; snapshot: string | null }[];
    let total = 0;
    for (const r of rows) {
      total += r.snapshot ? await opts.sizeOf(r.snapshot) : 0;
      if (total > opts.keepBytes) records += Number(db.prepare('DELETE FROM cache WHERE key = ? AND output = ?').run(r.key, r.output).changes);
    }
  }
  // Mark: snapshots reachable from the remaining records.
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
  for (const r of db.prepare('SELECT snapshot FROM cache').all() as { snapshot: string | null }[]) mark(r.snapshot);
  // Layers pulled from images stay while a kept snapshot builds on them (marked above).
  const dead = snaps.filter((s) => !live.has(s.id));
  db.exec('BEGIN IMMEDIATE');
  try {
    const del = db.prepare('DELETE FROM snapshots WHERE id = ?');
    for (const s of dead) del.run(s.id);
    db.exec('COMMIT');
  } catch (err) {
    db.exec('ROLLBACK');
    throw err;
  }
  for (const s of dead) if (!s.fs_id) await removeAll(join(layout.snapshots, s.id));
  // Layer dirs no record names: a crash between moving a snapshot into place and recording it.
  const named = new Set(snaps.filter((s) => live.has(s.id)).map((s) => s.fs_id ?? s.id));
  for (const name of await readdir(layout.snapshots).catch(() => [] as string[])) {
    if (/^[0-9a-f]{12}$/.test(name) && !named.has(name)) await removeAll(join(layout.snapshots, name));
  }
  const keepBlobs = new Set(snaps.filter((s) => live.has(s.id) && s.blob_digest).map((s) => s.blob_digest!.slice('sha256:'.length)));
  let blobs = 0;
  for (const name of await readdir(layout.blobs).catch(() => [] as string[])) {
    if (keepBlobs.has(name)) continue;
    await removeAll(join(layout.blobs, name));
    blobs++;
  }
  return { records, snapshots: dead.length, blobs };
}
