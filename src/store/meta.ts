import type { Db } from './db.ts';

/**
 * Small records by key in the database's `meta` table: what other parts remember beside the
 * main tables (the origin repository of a pulled blob, the last result of an incremental COPY,
 * layer blobs made with non-default options). Values are strings; a missing key is undefined.
 */
export interface Meta {
  get(key: string): string | undefined;
  set(key: string, value: string): void;
}

export function openMeta(db: Db): Meta {
  const get = db.prepare('SELECT v FROM meta WHERE k = ?');
  const set = db.prepare('INSERT OR REPLACE INTO meta (k, v) VALUES (?, ?)');
  return {
    get: (key) => (get.get(key) as { v: string } | undefined)?.v,
    set: (key, value) => {
      set.run(key, value);
    },
  };
}
