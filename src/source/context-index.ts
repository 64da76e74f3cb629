import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Stats } from 'node:fs';

/**
 * The metadata index of a build context (like git's index), in two files:
 * - `PATH.dirs.json`: per directory, a signature of its entries' stat fields (name, type,
 *   mode, size, mtime, ctime, inode) and the digest of its files' part of the checksum.
 *   A rebuild that finds a directory's signature unchanged reads none of its files.
 * - `PATH.files.json`: per file, its sha256 with the same stat fields, read only when some
 *   directory changed, so that only the changed files in it are hashed again.
 * Entries touched in the last 2 s are not remembered: a write still to come in the same
 * clock tick would not change the fields ("racy" entries, as git handles them). The index
 * is a cache: losing it, or a stale entry of a concurrent writer, only costs hashing.
 */
export interface ContextIndex {
  /** The remembered digest of directory `rel`'s files part, if its signature still matches. */
  dirPart(rel: string, signature: string): string | undefined;
  rememberDir(rel: string, signature: string, part: string, racy: boolean): void;
  /** The remembered digest of file `rel` if its stat fields still match. */
  file(rel: string, st: Stats): string | undefined;
  rememberFile(rel: string, st: Stats, digest: string): void;
  /** The files directory `dir` holds now (after its files were looked at): others under it are dropped. */
  dirFiles(dir: string, names: string[]): void;
  /** Writes what changed (atomically: temp file + rename). */
  save(): void;
}

const VERSION = 3;
const RACY_MS = 2000;

/** The stat fields that change whenever a file's bytes can have. */
export function statKey(st: Stats): string {
  return `${st.size}:${st.mtimeMs}:${st.ctimeMs}:${st.ino}`;
}

/** Whether `st` changed too recently for its fields to vouch for its content. */
export function isRacy(st: Stats, now = Date.now()): boolean {
  return now - st.mtimeMs < RACY_MS || now - st.ctimeMs < RACY_MS;
}

function load<T>(path: string): Record<string, T> {
  try {
    const data = JSON.parse(readFileSync(path, 'utf8')) as { v: number; e: Record<string, T> };
    if (data.v === VERSION && data.e && typeof data.e === 'object') return data.e;
  } catch {
    // missing or unreadable: start empty
  }
  return {};
}

function store(path: string, entries: Record<string, unknown>): void {
  try {
    mkdirSync(dirname(path), { recursive: true });
    const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    writeFileSync(tmp, JSON.stringify({ v: VERSION, e: entries }));
    renameSync(tmp, path);
  } catch {
    // a cache: failing to write it only costs hashing next time
  }
}

/** Opens the index at `path` (the two files `path.dirs.json` and `path.files.json`). */
export function openContextIndex(path: string): ContextIndex {
  const dirs = load<[string, string]>(`${path}.dirs.json`);
  let files: Record<string, [string, string]> | undefined;
  let dirsChanged = false;
  let filesChanged = false;
  const listed = new Map<string, Set<string>>();
  const filesIndex = () => (files ??= load<[string, string]>(`${path}.files.json`));
  return {
    dirPart(rel, signature) {
      const e = dirs[rel];
      return e && e[0] === signature ? e[1] : undefined;
    },
    rememberDir(rel, signature, part, racy) {
      if (racy) {
        if (dirs[rel]) {
          delete dirs[rel];
          dirsChanged = true;
        }
        return;
      }
      if (dirs[rel]?.[0] === signature) return;
      dirs[rel] = [signature, part];
      dirsChanged = true;
    },
    file(rel, st) {
      const e = filesIndex()[rel];
      return e && e[0] === statKey(st) ? e[1] : undefined;
    },
    rememberFile(rel, st, digest) {
      const f = filesIndex();
      if (isRacy(st)) {
        if (f[rel]) {
          delete f[rel];
          filesChanged = true;
        }
        return;
      }
      const k = statKey(st);
      if (f[rel]?.[0] === k && f[rel]?.[1] === digest) return;
      f[rel] = [k, digest];
      filesChanged = true;
    },
    dirFiles(dir, names) {
      listed.set(dir, new Set(names));
    },
    save() {
      if (files && listed.size) {
        for (const key of Object.keys(files)) {
          const i = key.lastIndexOf('/');
          const names = listed.get(i < 0 ? '' : key.slice(0, i));
          if (names && !names.has(key.slice(i + 1))) {
            delete files[key];
            filesChanged = true;
          }
        }
      }
      if (dirsChanged) store(`${path}.dirs.json`, dirs);
      if (filesChanged && files) store(`${path}.files.json`, files);
    },
  };
}
