/**
 * A metadata-preserving tree copy (node:fs only): types, modes (setuid/setgid/sticky too),
 * owners, symlinks (copied, never followed), hard links (kept as links inside the copy),
 * fifos and device nodes (through mknod), mtimes and atimes. File data is copied by the
 * kernel (copyFile), never buffered whole. Sockets are skipped. Extended attributes are
 * not copied. Calls on one entry are synchronous (an asynchronous call per chown, chmod and utimes
 * cost more than the copy); file data of big files is copied asynchronously, and the event loop
 * gets a turn every YIELD_EVERY entries, so signals and progress are never held up for long.
 */
import { spawn } from 'node:child_process';
import { copyFile, link, lstat, mkdir, readdir, rename, rm } from 'node:fs/promises';
import * as fs from 'node:fs';
import type { BigIntStats } from 'node:fs';
import { join } from 'node:path';
import process from 'node:process';
import { KilnError } from '../util/errors.ts';
import { tempName } from '../util/fs.ts';

export interface CopyTreeOptions {
  /**
   * `dst` already exists and may hold files: every entry is written to a temp name and
   * renamed over what is there (a directory replaced by a file is removed first).
   * Without it, `dst` must not exist and entries are written in place.
   */
  merge?: boolean;
}

interface CopyState {
  merge: boolean;
  /** `dev:ino` of multiply-linked files already copied → their path in the copy. */
  links: Map<string, string>;
  canChown: boolean;
}

/** Copies the tree at `src` (a directory) to `dst`. Not safe to run twice on one `dst` at once. */
export async function copyTree(src: string, dst: string, opts: CopyTreeOptions = {}): Promise<void> {
  const st = await lstat(src, { bigint: true });
  if (!st.isDirectory()) throw new KilnError(`${src} is not a directory`, { kind: 'internal' });
  const state: CopyState = { merge: opts.merge === true, links: new Map(), canChown: process.getuid?.() === 0 };
  if (state.merge) {
    await copyChildren(src, dst, state);
    return;
  }
  await mkdir(dst);
  await copyChildren(src, dst, state);
  await applyMeta(dst, st, state, false);
}

async function copyChildren(srcDir: string, dstDir: string, state: CopyState): Promise<void> {
  const names = (await readdir(srcDir)).sort();
  for (const name of names) await copyEntry(join(srcDir, name), join(dstDir, name), state);
}

const YIELD_EVERY = 256;
const SYNC_COPY_MAX = 1 << 20;
let sinceYield = 0;

async function copyEntry(src: string, dst: string, state: CopyState): Promise<void> {
  if (++sinceYield >= YIELD_EVERY) {
    sinceYield = 0;
    await new Promise((r) => setImmediate(r));
  }
  // A name listed but not there: overlay lists a whiteout in a directory it does not merge.
  const st = fs.lstatSync(src, { bigint: true, throwIfNoEntry: false });
  if (!st) return;
  if (st.isDirectory()) {
    await prepareDir(dst, state);
    await copyChildren(src, dst, state);
    await applyMeta(dst, st, state, false);
    return;
  }
  if (st.isSocket()) return;
  const key = `${st.dev}:${st.ino}`;
  const firstCopy = st.nlink > 1n ? state.links.get(key) : undefined;
  const target = state.merge ? tempName(dst) : dst;
  try {
    if (firstCopy !== undefined) {
      await link(firstCopy, target);
    } else {
      if (st.isFile()) {
        if (st.size <= BigInt(SYNC_COPY_MAX)) fs.copyFileSync(src, target);
        else await copyFile(src, target);
      } else if (st.isSymbolicLink()) fs.symlinkSync(fs.readlinkSync(src), target);
      else await makeNode(target, st);
      await applyMeta(target, st, state, st.isSymbolicLink());
    }
    if (state.merge) await replace(target, dst);
  } catch (err) {
    if (state.merge) await rm(target, { force: true });
    throw err;
  }
  if (st.nlink > 1n && firstCopy === undefined) state.links.set(key, dst);
}

/** Makes sure `dst` is a directory (in merge mode a non-directory there is removed). */
async function prepareDir(dst: string, state: CopyState): Promise<void> {
  if (state.merge) {
    const existing = await lstat(dst).catch(() => undefined);
    if (existing?.isDirectory()) return;
    if (existing) await rm(dst, { force: true });
  }
  await mkdir(dst);
}

/** Renames `tmp` over `dst`, removing a directory that stands in the way. */
async function replace(tmp: string, dst: string): Promise<void> {
  const existing = await lstat(dst).catch(() => undefined);
  if (existing?.isDirectory()) await rm(dst, { recursive: true, force: true });
  await rename(tmp, dst);
}

/** Owner first (chown clears setuid bits), then mode, then times. */
async function applyMeta(path: string, st: BigIntStats, state: CopyState, isLink: boolean): Promise<void> {
  if (state.canChown) fs.lchownSync(path, Number(st.uid), Number(st.gid));
  const atime = Number(st.atimeNs) / 1e9;
  const mtime = Number(st.mtimeNs) / 1e9;
  if (isLink) {
    fs.lutimesSync(path, atime, mtime);
    return;
  }
  fs.chmodSync(path, Number(st.mode & 0o7777n));
  fs.utimesSync(path, atime, mtime);
}

/** fifo, character or block device via mknod(1): node has no mknod call. */
async function makeNode(path: string, st: BigIntStats): Promise<void> {
  const rdev = st.rdev;
  const major = ((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn);
  const minor = (rdev & 0xffn) | ((rdev >> 12n) & ~0xffn);
  const args = st.isFIFO() ? [path, 'p'] : [path, st.isCharacterDevice() ? 'c' : 'b', String(major), String(minor)];
  await new Promise<void>((resolve, reject) => {
    const child = spawn('mknod', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new KilnError(`mknod ${args.join(' ')} failed: ${stderr.trim()}`, { kind: 'runtime' })),
    );
  });
}
