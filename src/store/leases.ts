import type { Db } from './db.ts';
import { isProcessAlive } from '../util/process.ts';

/**
 * Cross-process leases on cache keys: while one kiln process runs a step, another one
 * that needs the same step waits for it and then reuses its result instead of running it
 * again. A lease of a process that died is taken over.
 */
export interface Leases {
  /** true when this process now holds `key`. */
  tryAcquire(key: string): boolean;
  release(key: string): void;
}

export function openLeases(db: Db): Leases {
  const get = db.prepare('SELECT pid FROM leases WHERE key = ?');
  const del = db.prepare('DELETE FROM leases WHERE key = ? AND pid = ?');
  const ins = db.prepare('INSERT OR IGNORE INTO leases (key, pid, created_at) VALUES (?, ?, ?)');
  return {
    tryAcquire(key) {
      db.exec('BEGIN IMMEDIATE');
      try {
        const row = get.get(key) as { pid: number } | undefined;
        if (row && row.pid !== process.pid && !isProcessAlive(row.pid)) del.run(key, row.pid);
        const ok = ins.run(key, process.pid, Date.now()).changes > 0 || row?.pid === process.pid;
        db.exec('COMMIT');
        return ok;
      } catch (err) {
        db.exec('ROLLBACK');
        throw err;
      }
    },
    release(key) {
      del.run(key, process.pid);
    },
  };
}
