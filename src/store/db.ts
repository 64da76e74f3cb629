import { DatabaseSync } from 'node:sqlite';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * The records database (node:sqlite, WAL): snapshots, cache keys, images. Several
 * processes may open it at once; writers wait (busy_timeout) rather than fail.
 */
export type Db = DatabaseSync;

const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS snapshots (
  id TEXT PRIMARY KEY,
  parent TEXT,
  chain_id TEXT,
  blob_digest TEXT,
  blob_size INTEGER,
  blob_media_type TEXT,
  diff_id TEXT,
  fs_id TEXT,
  created_at INTEGER NOT NULL,
  last_used INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS snapshots_chain_id ON snapshots(chain_id) WHERE chain_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS cache (
  key TEXT NOT NULL,
  output INTEGER NOT NULL,
  snapshot TEXT,
  description TEXT,
  created_at INTEGER NOT NULL,
  last_used INTEGER NOT NULL,
  PRIMARY KEY (key, output)
);
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS procs (
  pid INTEGER PRIMARY KEY,
  started_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS leases (
  key TEXT PRIMARY KEY,
  pid INTEGER NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS images (
  name TEXT PRIMARY KEY,
  digest TEXT NOT NULL,
  media_type TEXT NOT NULL,
  size INTEGER NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS cache_mounts (
  dir TEXT PRIMARY KEY,
  id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  last_used INTEGER NOT NULL,
  size INTEGER
);
CREATE TABLE IF NOT EXISTS built_layers (
  chain_id TEXT PRIMARY KEY,
  diff_id TEXT NOT NULL,
  snapshot TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS built_layers_diff_id ON built_layers(diff_id);
CREATE TABLE IF NOT EXISTS step_history (
  ident TEXT NOT NULL,
  key TEXT NOT NULL,
  facts TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (ident, key)
);
`;

/** Brings a state dir made by an earlier kiln up to the current schema. */
function migrate(db: DatabaseSync): void {
  const cols = (db.prepare('PRAGMA table_info(snapshots)').all() as { name: string }[]).map((c) => c.name);
  if (!cols.includes('fs_id')) db.exec('ALTER TABLE snapshots ADD COLUMN fs_id TEXT');
  // Bytes of the snapshot's own layer dir, measured once (snapshots never change).
  if (!cols.includes('size')) db.exec('ALTER TABLE snapshots ADD COLUMN size INTEGER');
  // 1: the layer dir is a delta on its parent's, and both make one image layer (snapshots.ts).
  if (!cols.includes('joins_parent')) db.exec('ALTER TABLE snapshots ADD COLUMN joins_parent INTEGER NOT NULL DEFAULT 0');
  // 1: recorded from an imported cache with its blob, the layer dir made on first use (snapshot/unpack.ts).
  if (!cols.includes('lazy')) db.exec('ALTER TABLE snapshots ADD COLUMN lazy INTEGER NOT NULL DEFAULT 0');
  // Bytes of the image layer's uncompressed tar (its diff id is diff_id), once measured.
  if (!cols.includes('diff_size')) db.exec('ALTER TABLE snapshots ADD COLUMN diff_size INTEGER');
}

export function openDb(path: string): Db {
  mkdirSync(dirname(path), { recursive: true });
  const db = new DatabaseSync(path);
  db.exec('PRAGMA busy_timeout = 30000');
  db.exec('PRAGMA journal_mode = WAL');
  db.exec('PRAGMA synchronous = NORMAL');
  db.exec('PRAGMA foreign_keys = OFF');
  db.exec('BEGIN IMMEDIATE');
  try {
    db.exec(SCHEMA);
    migrate(db);
    db.prepare('INSERT OR IGNORE INTO meta (k, v) VALUES (?, ?)').run('schema_version', String(SCHEMA_VERSION));
    db.exec('COMMIT');
  } catch (err) {
    // SQLite has already rolled back on some errors (SQLITE_FULL): then there is nothing to end.
    try {
      db.exec('ROLLBACK');
    } catch {
      // no transaction any more
    }
    db.close();
    throw err;
  }
  return db;
}
