/**
 * Space kept back so that kiln can always free its own: when a RUN step fills the disk of
 * the state dir, SQLite cannot write even the deletions that `kiln prune` makes ("database or
 * disk is full"), and every command fails. A reserve file of RESERVE_BYTES is kept in the state
 * dir; an operation that fails for want of space releases it and tries once more, and the
 * reserve is made again when there is room.
 */
import { statfsSync } from 'node:fs';
import { open, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { KilnError } from '../util/errors.ts';

/** Enough for the database to record a prune of a large store (its WAL) and to open. */
export const RESERVE_BYTES = 8 << 20;

const reservePath = (root: string) => join(root, 'reserve');

/** Whether `err` is the disk being full: ENOSPC from a file call, SQLITE_FULL from the database. */
export function isDiskFull(err: unknown): boolean {
  const e = err as { code?: unknown; errcode?: unknown; message?: unknown } | undefined;
  if (!e) return false;
  if (e.code === 'ENOSPC' || e.errcode === 13) return true;
  return typeof e.message === 'string' && /database or disk is full|no space left on device|ENOSPC/i.test(e.message);
}

/**
 * isDiskFull, or SQLite's "disk I/O error" on a disk that has (almost) no room left: growing
 * its shared-memory or WAL file then fails as I/O, not as SQLITE_FULL.
 */
export function isOutOfSpaceAt(err: unknown, root: string): boolean {
  if (isDiskFull(err)) return true;
  const e = err as { message?: unknown; errcode?: unknown } | undefined;
  const io = (typeof e?.message === 'string' && /disk I\/O error/i.test(e.message)) || (typeof e?.errcode === 'number' && (e.errcode & 0xff) === 10);
  if (!io) return false;
  try {
    const s = statfsSync(root);
    return s.bavail * s.bsize < RESERVE_BYTES;
  } catch {
    return false;
  }
}

/** The error a user sees for a full disk, whatever call met it. */
export function diskFullError(where: string, cause?: unknown): KilnError {
  return new KilnError(`no space left on the disk of ${where}`, {
    kind: 'runtime',
    cause,
    hint: 'free space with `kiln prune --all` (or --keep-storage SIZE); kiln keeps a reserve so that prune always works',
  });
}

/** Makes the reserve file when it is missing and there is room. Never throws. */
export async function ensureReserve(root: string): Promise<void> {
  const path = reservePath(root);
  if ((await stat(path).catch(() => undefined))?.size === RESERVE_BYTES) return;
  try {
    const s = statfsSync(root);
    if (s.bavail * s.bsize < 4 * RESERVE_BYTES) return; // no room to spare now: made again after a prune
  } catch {
    return;
  }
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    const fh = await open(tmp, 'w', 0o600);
    try {
      const zeros = Buffer.alloc(1 << 20);
      for (let n = 0; n < RESERVE_BYTES; n += zeros.length) await fh.write(zeros);
      await fh.sync();
    } finally {
      await fh.close();
    }
    const { rename } = await import('node:fs/promises');
    await rename(tmp, path);
  } catch {
    await rm(tmp, { force: true }).catch(() => {});
  }
}

/** Deletes the reserve; true when there was one to give back. */
export async function releaseReserve(root: string): Promise<boolean> {
  const there = await stat(reservePath(root)).catch(() => undefined);
  if (!there) return false;
  await rm(reservePath(root), { force: true });
  return true;
}

/**
 * Runs `fn`; when it fails for want of space, releases the reserve and runs it once more
 * (`fn` must be safe to run again). A failure that remains is a clear KilnError.
 */
export async function withSpace<T>(root: string, fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (!isOutOfSpaceAt(err, root)) throw err;
    if (!(await releaseReserve(root))) throw diskFullError(`the state dir ${root}`, err);
    try {
      return await fn();
    } catch (again) {
      throw isOutOfSpaceAt(again, root) ? diskFullError(`the state dir ${root}`, again) : again;
    }
  }
}
