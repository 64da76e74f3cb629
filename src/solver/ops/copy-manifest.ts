/**
 * The worker side of an incremental COPY (copy-reuse.ts plans it on the main thread): the
 * manifest a copy leaves beside its layer (`copy.json`: for each source entry, where it went
 * and its stat key), and, while copying onto a cloned previous layer, which files need nothing.
 */
import { lstatSync, type Stats } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isRacy, statKey } from '../../source/context-index.ts';

/**
 * What an incremental copy remembers: for every source entry it copied, where it went and
 * (files and symlinks) the source's stat key when the copy read it. Stored beside the layer.
 */
export interface CopyManifest {
  v: 1;
  files: Record<string, [statKey: string, destRel: string]>;
  dirs: Record<string, string>;
}

/**
 * An incremental copy (a COPY from a local context that ran before with the same action and
 * base): `upperDir` already holds the previous layer, cloned with hard links (clone-layer.ts);
 * a file whose source still has the recorded stat key is left as it is, everything else is
 * copied as usual (an existing target is always unlinked first, never written in place).
 * `manifestOut` receives the new manifest.
 */
export interface CopyReuse {
  upperDir: string;
  /** The previous copy's manifest file; absent on a first copy (which only records one). */
  prevManifest?: string;
  manifestOut: string;
}

/** What an incremental copy reports: destination paths (layer-relative) the source no longer has, and counts. */
export interface CopyResult {
  removed: string[];
  /** Files and symlinks left as the previous copy made them. */
  reused: number;
  /** Files and symlinks written. */
  copied: number;
  /** Apparent size of the files and symlinks the copy leaves in the layer (reused ones included). */
  bytes: number;
}

/** One incremental copy in progress (worker side). */
export interface ReuseState {
  bytes: number;
  reused: number;
  copied: number;
  upperDir: string;
  prev?: CopyManifest;
  next: CopyManifest;
  visited: Set<string>;
  now: number;
}

/** The bookkeeping of one incremental copy: the previous manifest (if any) and the one being made. */
export async function openCopyReuse(r: CopyReuse): Promise<ReuseState> {
  let prev: CopyManifest | undefined;
  if (r.prevManifest) {
    const m = JSON.parse(await readFile(r.prevManifest, 'utf8')) as CopyManifest;
    if (m.v === 1) prev = m;
  }
  return { upperDir: r.upperDir, prev, next: { v: 1, files: {}, dirs: {} }, visited: new Set(), now: Date.now(), reused: 0, copied: 0, bytes: 0 };
}

/**
 * Records a file or symlink the copy visits (`srcRel` → `destRel`) and says whether the
 * previous copy left this very file in the cloned layer (same source stat key, same place, same
 * type, size and time): then there is nothing to do for it.
 */
export function reusable(r: ReuseState, srcRel: string, destRel: string, st: Stats, timestamp?: number): boolean {
  r.visited.add(srcRel);
  const key = statKey(st);
  if (!isRacy(st, r.now)) r.next.files[srcRel] = [key, destRel];
  const p = st.nlink === 1 ? r.prev?.files[srcRel] : undefined;
  const up = p && p[0] === key && p[1] === destRel ? lstatSync(join(r.upperDir, destRel), { throwIfNoEntry: false }) : undefined;
  const mtime = timestamp !== undefined ? timestamp * 1000 : st.mtimeMs;
  const same = !!up && up.isFile() === st.isFile() && up.isSymbolicLink() === st.isSymbolicLink() && up.size === st.size && Math.floor(up.mtimeMs) === Math.floor(mtime);
  if (same) r.reused++;
  else r.copied++;
  r.bytes += st.size;
  return same;
}

/** Records a directory the copy visits. */
export function recordDir(r: ReuseState, srcRel: string, destRel: string): void {
  r.visited.add(srcRel);
  r.next.dirs[srcRel] = destRel;
}

/** Writes the new manifest; what the previous copy had and this one did not visit is to be removed. */
export async function finishCopyReuse(r: ReuseState, manifestOut: string): Promise<CopyResult> {
  await writeFile(manifestOut, JSON.stringify(r.next));
  const removed: string[] = [];
  for (const [srcRel, [, destRel]] of Object.entries(r.prev?.files ?? {})) if (!r.visited.has(srcRel)) removed.push(destRel);
  for (const [srcRel, destRel] of Object.entries(r.prev?.dirs ?? {})) if (!r.visited.has(srcRel)) removed.push(destRel);
  return { removed, reused: r.reused, copied: r.copied, bytes: r.bytes };
}
