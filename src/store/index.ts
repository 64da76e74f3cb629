import { chmod, lstat, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { openMeta, type Meta } from './meta.ts';
import { openDb, type Db } from './db.ts';
import { openContentStore, type ContentStore } from './content.ts';
import { openSnapshotStore, type SnapshotStore } from './snapshots.ts';
import { openCacheRecords, type CacheRecords } from './cache-records.ts';
import { stateLayout, type StateLayout } from './state-dir.ts';
import { openStepHistory, type StepHistory } from './step-history.ts';
import { recoverStateDir } from './recover.ts';
import { ensureReserve, withSpace } from './reserve.ts';
import { openLeases, type Leases } from './leases.ts';
import { openCacheMounts, type CacheMounts } from './cache-mounts.ts';
import { openImages, type Images } from './images.ts';
import { openBuiltLayers, type BuiltLayers } from './built-layers.ts';
import { createSyncTracker, recoverUnsynced, type SyncTracker } from './unsynced.ts';

/** Everything under one state dir, opened once per process. */
export interface Store {
  layout: StateLayout;
  db: Db;
  content: ContentStore;
  snapshots: SnapshotStore;
  cache: CacheRecords;
  steps: StepHistory;
  leases: Leases;
  cacheMounts: CacheMounts;
  images: Images;
  builtLayers: BuiltLayers;
  meta: Meta;
  /** Snapshot files are synced once per build, not per step (unsynced.ts). */
  unsynced: SyncTracker;
  /** Everything this process stored made durable (one syncfs); call before close() at the end of a build. */
  settle(): Promise<void>;
  close(): void;
}

/**
 * The state dir holds what images bring: setuid binaries, device nodes (a layer may hold one
 * for the host's disk), files an image meant to keep private. None of it may be reachable by
 * the machine's other users: kiln's directories and database are its owner's alone (0700 /
 * 0600), as containerd keeps its snapshots. Directories made by an earlier kiln are closed too.
 */
async function closeToOthers(layout: StateLayout): Promise<void> {
  const dirs = [join(layout.root, 'content'), layout.snapshots, layout.run, join(layout.root, 'mounts'), layout.contextIndex];
  const files = [layout.db, `${layout.db}-wal`, `${layout.db}-shm`];
  for (const [path, mode] of [...dirs.map((d) => [d, 0o700] as const), ...files.map((f) => [f, 0o600] as const)]) {
    const st = await lstat(path).catch(() => undefined);
    if (st && !st.isSymbolicLink() && (st.mode & 0o077) !== 0 && st.uid === process.getuid?.()) await chmod(path, mode);
  }
}

export async function openStore(root: string): Promise<Store> {
  const layout = stateLayout(root);
  await Promise.all([layout.blobs, layout.ingest, layout.snapshots, layout.run, layout.cacheMounts, layout.contextIndex].map((d) => mkdir(d, { recursive: true, mode: 0o700 })));
  await recoverStateDir(layout);
  // On a full disk the database cannot even open for writing: the reserve gives it room.
  const db = await withSpace(root, () => {
    const d = openDb(layout.db);
    try {
      // Known to others (prune waits for them); stale pids of dead processes are ignored.
      d.prepare('INSERT OR REPLACE INTO procs (pid, started_at) VALUES (?, ?)').run(process.pid, Date.now());
    } catch (err) {
      d.close();
      throw err;
    }
    return d;
  });
  await closeToOthers(layout);
  try {
    await recoverUnsynced(layout, db);
  } catch (err) {
    db.close();
    throw err;
  }
  await ensureReserve(root);
  const unsynced = createSyncTracker(layout);
  return {
    layout,
    db,
    content: openContentStore(layout.blobs, layout.ingest),
    snapshots: openSnapshotStore(db, layout.snapshots, () => unsynced.beforeUnsyncedCommit()),
    cache: openCacheRecords(db),
    steps: openStepHistory(db),
    leases: openLeases(db),
    cacheMounts: openCacheMounts(db),
    images: openImages(db),
    builtLayers: openBuiltLayers(db),
    meta: openMeta(db),
    unsynced,
    settle: () => unsynced.settle(),
    close: () => {
      try {
        db.prepare('DELETE FROM procs WHERE pid = ?').run(process.pid);
      } catch {
        // a full disk: the row of a dead pid is ignored by everyone
      }
      db.close();
    },
  };
}

export { resolveStateDir, stateLayout } from './state-dir.ts';
export { recoverStateDir } from './recover.ts';
export { diskFullError, ensureReserve, isDiskFull, withSpace } from './reserve.ts';
export type { ContentStore, SnapshotStore, CacheRecords, StateLayout, StepHistory, CacheMounts, Images, BuiltLayers };
export type { ImageRecord } from './images.ts';
export type { SnapshotRecord, ActiveSnapshot } from './snapshots.ts';
