/**
 * Snapshot contents are written without a sync per step: overlays are mounted `volatile`
 * (an overlay's unmount would otherwise syncfs the whole file system under the state dir,
 * 0.6-1.2 s after a 280 MB COPY), and unpacked layers were never fsynced file by file. What a
 * build stored is made durable once, by one syncfs when the build ends (or earlier, in the
 * background, while it exports).
 *
 * A power cut before that sync can leave records whose files never reached the disk. So before
 * the first such commit a process writes, durably, a marker `run/unsynced-PID` holding the boot
 * id and the time; settle() syncs and removes it. A marker left by a dead process is read at the
 * next open (recoverUnsynced): from the same boot, the page cache still holds every byte and one
 * sync settles it; from an earlier boot, every snapshot, cache record, built layer and image name
 * recorded since that time is dropped (lost work, never a wrong cache hit).
 */
import { lstat, open, readdir, readFile } from 'node:fs/promises';
import { constants } from 'node:fs';
import { join } from 'node:path';
import type { Db } from './db.ts';
import type { StateLayout } from './state-dir.ts';
import { fsyncDir, removeAll, writeFileAtomic } from '../util/fs.ts';
import { syncFileSystem } from '../platform/linux-fs.ts';
import { isProcessAlive } from '../util/process.ts';

const MARKER = /^unsynced-(\d+)$/;

export interface SyncTracker {
  /** Before a snapshot whose files may still be only in the page cache is recorded. */
  beforeUnsyncedCommit(): Promise<void>;
  /**
   * syncfs of the state dir's file system if anything was committed since the last sync began;
   * callers may start it early and await it later (it runs in another process).
   */
  sync(): Promise<void>;
  /** sync(), then the marker removed: everything this process stored is on disk. */
  settle(): Promise<void>;
}

/** The kernel's id of this boot (changes at every reboot); '' where there is none. */
export async function bootId(): Promise<string> {
  return (await readFile('/proc/sys/kernel/random/boot_id', 'utf8').catch(() => '')).trim();
}

/** When this boot began (ms since the epoch), from /proc/stat; 0 where unknown. */
async function bootTimeMs(): Promise<number> {
  const m = /^btime (\d+)$/m.exec(await readFile('/proc/stat', 'utf8').catch(() => ''));
  return m ? Number(m[1]) * 1000 : 0;
}

export function createSyncTracker(layout: StateLayout, pid = process.pid): SyncTracker {
  const marker = join(layout.run, `unsynced-${pid}`);
  let marked: Promise<void> | undefined;
  /** Commits since the last sync began. */
  let dirty = false;
  let last: Promise<void> = Promise.resolve();
  const sync = () => {
    if (!dirty) return last;
    dirty = false;
    const prev = last;
    last = prev.then(() => syncFileSystem(layout.snapshots));
    return last;
  };
  return {
    async beforeUnsyncedCommit() {
      dirty = true;
      marked ??= bootId().then(async (boot) => {
        await writeFileAtomic(marker, `${boot} ${Date.now()}\n`, 0o600);
        await fsyncDir(layout.run);
      });
      await marked;
    },
    sync,
    async settle() {
      await sync();
      if (!marked) return;
      await marked.catch(() => {});
      await removeAll(marker);
      marked = undefined;
    },
  };
}

/** A marker's text: its first 256 bytes (a marker is one short line), opened without following a symlink. */
async function readMarker(path: string): Promise<string> {
  const fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch(() => undefined);
  if (!fh) return '';
  try {
    const buf = Buffer.alloc(256);
    const { bytesRead } = await fh.read(buf, 0, 256, 0);
    return buf.subarray(0, bytesRead).toString('latin1');
  } finally {
    await fh.close();
  }
}

/**
 * Markers of dead processes (see the top of this file). Returns how many records were dropped
 * because the machine restarted before their files were synced.
 */
export async function recoverUnsynced(layout: StateLayout, db: Db, thisBoot?: { id: string; startedAt: number }): Promise<number> {
  const boot = thisBoot?.id ?? (await bootId());
  let dropped = 0;
  for (const name of await readdir(layout.run).catch(() => [] as string[])) {
    const m = MARKER.exec(name);
    if (!m) continue;
    const path = join(layout.run, name);
    // Only a regular file is read (never through a symlink, never a directory); anything else is removed.
    const st = await lstat(path).catch(() => undefined);
    const text = st?.isFile() ? await readMarker(path) : '';
    const [markBoot, since] = text.trim().split(' ');
    // A marker from this boot belongs to a process that may still run (its pid alive); one from
    // an earlier boot never does, whatever now has its pid. (Markers are written whole: renamed
    // into place.)
    const sameBoot = markBoot === boot;
    if (sameBoot && isProcessAlive(Number(m[1]))) continue;
    if (sameBoot) await syncFileSystem(layout.snapshots);
    else if (since && Number.isFinite(Number(since))) dropped += await dropBetween(layout, db, Number(since), thisBoot?.startedAt ?? ((await bootTimeMs()) || Date.now()));
    await removeAll(path);
  }
  return dropped;
}

/**
 * Everything recorded from `since` until `until` (ms; the current boot's start, so nothing a
 * process of this boot made is touched): snapshots (and their dirs), the records naming them,
 * image names.
 */
async function dropBetween(layout: StateLayout, db: Db, since: number, until: number): Promise<number> {
  const snaps = db.prepare('SELECT id, fs_id FROM snapshots WHERE created_at >= ? AND created_at < ?').all(since, until) as { id: string; fs_id: string | null }[];
  const ids = new Set(snaps.map((s) => s.id));
  let n = 0;
  db.exec('BEGIN IMMEDIATE');
  try {
    const delCache = db.prepare('DELETE FROM cache WHERE key = ? AND output = ?');
    for (const r of db.prepare('SELECT key, output, snapshot, created_at FROM cache').all() as { key: string; output: number; snapshot: string | null; created_at: number }[]) {
      if ((r.created_at >= since && r.created_at < until) || (r.snapshot && ids.has(r.snapshot))) n += Number(delCache.run(r.key, r.output).changes);
    }
    const delBuilt = db.prepare('DELETE FROM built_layers WHERE chain_id = ?');
    for (const b of db.prepare('SELECT chain_id, snapshot FROM built_layers').all() as { chain_id: string; snapshot: string }[]) {
      if (ids.has(b.snapshot)) n += Number(delBuilt.run(b.chain_id).changes);
    }
    n += Number(db.prepare('DELETE FROM images WHERE created_at >= ? AND created_at < ?').run(since, until).changes);
    const delSnap = db.prepare('DELETE FROM snapshots WHERE id = ?');
    for (const id of ids) n += Number(delSnap.run(id).changes);
    db.exec('COMMIT');
  } catch (err) {
    db.exec('ROLLBACK');
    throw err;
  }
  for (const s of snaps) if (!s.fs_id) await removeAll(join(layout.snapshots, s.id));
  return n;
}
