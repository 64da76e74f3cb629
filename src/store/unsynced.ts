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
import { spawn } from 'node:child_process';
import { open, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Db } from './db.ts';
import type { StateLayout } from './state-dir.ts';
import { removeAll } from '../util/fs.ts';
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

/** Writes `text` to `path` and fsyncs it and its directory: on disk before this resolves. */
async function writeDurably(path: string, dir: string, text: string): Promise<void> {
  const fh = await open(path, 'w', 0o600);
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}

/** `sync -f DIR`: syncfs(2) of the file system DIR is on, without blocking this thread. */
function syncFs(dir: string): Promise<void> {
  return new Promise((resolve) => {
    const child = spawn('sync', ['-f', dir], { stdio: 'ignore' });
    child.on('error', () => resolve());
    child.on('close', () => resolve());
  });
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
    last = prev.then(() => syncFs(layout.snapshots));
    return last;
  };
  return {
    async beforeUnsyncedCommit() {
      dirty = true;
      // A torn marker (a crash while writing it) is harmless: nothing was committed after it yet.
      marked ??= bootId().then((boot) => writeDurably(marker, layout.run, `${boot} ${Date.now()}\n`));
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
    const [markBoot, since] = (await readFile(path, 'utf8').catch(() => '')).trim().split(' ');
    // A marker from this boot belongs to a process that may still run (its pid alive); one from
    // an earlier boot never does, whatever now has its pid.
    // An empty one is being written (pid alive) or was torn before anything it covers was committed.
    const sameBoot = markBoot === boot || !markBoot;
    if (sameBoot && isProcessAlive(Number(m[1]))) continue;
    if (sameBoot && markBoot) await syncFs(layout.snapshots);
    else if (!sameBoot && since && Number.isFinite(Number(since))) dropped += await dropBetween(layout, db, Number(since), thisBoot?.startedAt ?? ((await bootTimeMs()) || Date.now()));
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
