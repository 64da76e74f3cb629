import type { Db } from './db.ts';

/**
 * Records of RUN --mount=type=cache directories (`mounts/cache/<dir>`): when each was last
 * used, and its size once measured (null after a use, which may have changed it). What
 * `kiln du` lists and GC ages; the directories themselves are the exec op's.
 */
export interface CacheMountRecord {
  dir: string;
  id: string;
  lastUsed: number;
  size: number | null;
}

export interface CacheMounts {
  /** Marks `dir` (cache id `id`) used now. */
  touch(dir: string, id: string): void;
  list(): CacheMountRecord[];
  setSize(dir: string, size: number): void;
  remove(dir: string): void;
}

export function openCacheMounts(db: Db): CacheMounts {
  const upsert = db.prepare(
    'INSERT INTO cache_mounts (dir, id, created_at, last_used, size) VALUES (?, ?, ?, ?, NULL) ON CONFLICT(dir) DO UPDATE SET last_used = excluded.last_used, size = NULL',
  );
  return {
    touch(dir, id) {
      const now = Date.now();
      upsert.run(dir, id, now, now);
    },
    list() {
      const rows = db.prepare('SELECT dir, id, last_used, size FROM cache_mounts').all() as { dir: string; id: string; last_used: number; size: number | null }[];
      return rows.map((r) => ({ dir: r.dir, id: r.id, lastUsed: r.last_used, size: r.size }));
    },
    setSize(dir, size) {
      db.prepare('UPDATE cache_mounts SET size = ? WHERE dir = ?').run(size, dir);
    },
    remove(dir) {
      db.prepare('DELETE FROM cache_mounts WHERE dir = ?').run(dir);
    },
  };
}
