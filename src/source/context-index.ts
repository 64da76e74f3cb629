import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import type { Stats } from 'node:fs';

/**
 * The metadata index of a build context (like git's index), in two files:
 * - `PATH.dirs.json`: per directory, a signature of its entries' stat fields (name, type,
 *   mode, size, mtime, ctime, inode) and the digest of its files' part of the checksum.
 *   A rebuild that finds a directory's signature unchanged reads none of its files. Also its
 *   tree signature, when no entry under it is racy: the same stat fields of the directory
 *   itself and of everything under it, with the exclude patterns they were taken under (an
 *   incremental COPY skips a directory whose tree signature is the one it copied).
 * - `PATH.files.jsonl`: per file, its sha256 with the same stat fields, one line per
 *   directory (`JSON dir`, a tab, `{name: [statKey, sha256]}`), parsed only for a directory
 *   whose signature changed, so that only the changed files in it are hashed again.
 * Entries touched in the last 2 s are not remembered: a write still to come in the same
 * clock tick would not change the fields ("racy" entries, as git handles them). The index
 * is a cache: losing it, or a stale entry of a concurrent writer, only costs hashing.
 */
export interface ContextIndex {
  /** The remembered digest of directory `rel`'s files part, if its signature still matches. */
  dirPart(rel: string, signature: string): string | undefined;
  rememberDir(rel: string, signature: string, part: string, racy: boolean, tree?: string): void;
  /** The remembered digest of file `rel` if its stat fields still match. */
  file(rel: string, st: Stats): string | undefined;
  rememberFile(rel: string, st: Stats, digest: string): void;
  /** The files directory `dir` holds now (after its files were looked at): others under it are dropped. */
  dirFiles(dir: string, names: string[]): void;
  /** Writes what changed (atomically: temp file + rename). */
  save(): void;
}

const VERSION = 4;
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

function writeAtomically(path: string, text: string): void {
  try {
    mkdirSync(dirname(path), { recursive: true });
    const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    writeFileSync(tmp, text);
    renameSync(tmp, path);
  } catch {
    // a cache: failing to write it only costs hashing next time
  }
}

function store(path: string, entries: Record<string, unknown>): void {
  writeAtomically(path, JSON.stringify({ v: VERSION, e: entries }));
}

const FILES_MAGIC = `kiln-context-files ${VERSION}`;

/** The files part: one line per directory, parsed on first use; untouched lines are written back as read. */
function fileLines(path: string) {
  const raw = new Map<string, string>();
  const parsed = new Map<string, Record<string, FileEntry>>();
  const dirty = new Set<string>();
  let loaded = false;
  const load = () => {
    if (loaded) return;
    loaded = true;
    let text = '';
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      return; // missing: start empty
    }
    const lines = text.split('\n');
    if (lines[0] !== FILES_MAGIC) return;
    for (const line of lines.slice(1)) {
      const tab = line.indexOf('\t');
      if (tab > 0) raw.set(JSON.parse(line.slice(0, tab)) as string, line.slice(tab + 1));
    }
  };
  /** The entries of directory `dir` (the live record: changes must be marked with touch). */
  const entries = (dir: string): Record<string, FileEntry> => {
    let e = parsed.get(dir);
    if (!e) {
      load();
      const text = raw.get(dir);
      e = text ? (JSON.parse(text) as Record<string, FileEntry>) : {};
      parsed.set(dir, e);
    }
    return e;
  };
  return {
    entries,
    touch: (dir: string) => dirty.add(dir),
    save() {
      if (!dirty.size) return;
      load();
      const out = [FILES_MAGIC];
      for (const dir of new Set([...raw.keys(), ...parsed.keys()])) {
        const e = parsed.get(dir);
        const text = e ? (Object.keys(e).length ? JSON.stringify(e) : undefined) : raw.get(dir);
        if (text) out.push(`${JSON.stringify(dir)}\t${text}`);
      }
      writeAtomically(path, `${out.join('\n')}\n`);
    },
  };
}

/** What starts a tree signature taken under `excludePatterns` (so one taken under others never matches). */
export function treeSeedOf(excludePatterns: string[] = []): string {
  return createHash('sha256').update(JSON.stringify(excludePatterns)).digest('hex').slice(0, 16);
}

/**
 * The tree signatures the last walk under `excludePatterns` recorded in the index at `path`
 * (directory path in the context → signature).
 */
export function treeSignatures(path: string, excludePatterns: string[] = []): Record<string, string> {
  const seed = treeSeedOf(excludePatterns);
  const out: Record<string, string> = {};
  for (const [rel, e] of Object.entries(load<[string, string, string?]>(`${path}.dirs.json`))) if (e[2]?.startsWith(seed)) out[rel] = e[2];
  return out;
}

type DirEntry = [signature: string, part: string, tree?: string];
type FileEntry = [statKey: string, digest: string];

/** Opens the index at `path` (the two files `path.dirs.json` and `path.files.jsonl`). */
export function openContextIndex(path: string): ContextIndex {
  const dirs = load<DirEntry>(`${path}.dirs.json`);
  const files = fileLines(`${path}.files.jsonl`);
  let dirsChanged = false;
  const setDir = (rel: string, e: DirEntry | null) => {
    if (e) dirs[rel] = e;
    else delete dirs[rel];
    dirsChanged = true;
  };
  const split = (rel: string): [string, string] => {
    const i = rel.lastIndexOf('/');
    return i < 0 ? ['', rel] : [rel.slice(0, i), rel.slice(i + 1)];
  };
  return {
    dirPart(rel, signature) {
      const e = dirs[rel];
      return e && e[0] === signature ? e[1] : undefined;
    },
    rememberDir(rel, signature, part, racy, tree) {
      if (racy) {
        if (dirs[rel]) setDir(rel, null);
        return;
      }
      if (dirs[rel]?.[0] === signature && dirs[rel]?.[2] === tree) return;
      setDir(rel, tree ? [signature, part, tree] : [signature, part]);
    },
    file(rel, st) {
      const [dir, name] = split(rel);
      const e = files.entries(dir)[name];
      return e && e[0] === statKey(st) ? e[1] : undefined;
    },
    rememberFile(rel, st, digest) {
      const [dir, name] = split(rel);
      const f = files.entries(dir);
      if (isRacy(st)) {
        if (f[name]) {
          delete f[name];
          files.touch(dir);
        }
        return;
      }
      const k = statKey(st);
      if (f[name]?.[0] === k && f[name]?.[1] === digest) return;
      f[name] = [k, digest];
      files.touch(dir);
    },
    dirFiles(dir, names) {
      const keep = new Set(names);
      const f = files.entries(dir);
      for (const name of Object.keys(f)) {
        if (keep.has(name)) continue;
        delete f[name];
        files.touch(dir);
      }
    },
    save() {
      if (dirsChanged) store(`${path}.dirs.json`, dirs);
      files.save();
    },
  };
}
