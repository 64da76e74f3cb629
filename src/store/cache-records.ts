import type { Db } from './db.ts';

/** What a cache key resolved to: a snapshot id, or null for the empty file system. */
export interface CacheHit {
  snapshot: string | null;
}

/** Maps vertex cache keys (per output) to snapshots. Safe across processes (sqlite). */
export interface CacheRecords {
  get(key: string, output: number): CacheHit | undefined;
  put(key: string, output: number, snapshot: string | null, description?: string): void;
  /**
   * Forgets every record whose result builds on `snapshot` (it, the snapshots sharing its layer,
   * and everything on top of them): a layer found broken is never a cache hit again.
   */
  dropBuiltOn(snapshot: string): number;
}

export function openCacheRecords(db: Db): CacheRecords {
  const getStmt = db.prepare('SELECT snapshot FROM cache WHERE key = ? AND output = ?');
  const touch = db.prepare('UPDATE cache SET last_used = ? WHERE key = ? AND output = ?');
  const putStmt = db.prepare(
    'INSERT INTO cache (key, output, snapshot, description, created_at, last_used) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(key, output) DO UPDATE SET snapshot = excluded.snapshot, last_used = excluded.last_used',
  );
  return {
    get(key, output) {
      const r = getStmt.get(key, output) as { snapshot: string | null } | undefined;
      if (!r) return undefined;
      touch.run(Date.now(), key, output);
      return { snapshot: r.snapshot };
    },
    put(key, output, snapshot, description) {
      const now = Date.now();
      putStmt.run(key, output, snapshot, description ?? null, now, now);
    },
    dropBuiltOn(snapshot) {
      const r = db
        .prepare(
          `WITH RECURSIVE d(id) AS (SELECT id FROM snapshots WHERE id = ?1 OR fs_id = ?1 UNION SELECT s.id FROM snapshots s JOIN d ON s.parent = d.id)
           DELETE FROM cache WHERE snapshot IN (SELECT id FROM d)`,
        )
        .run(snapshot);
      return Number(r.changes);
    },
  };
}
