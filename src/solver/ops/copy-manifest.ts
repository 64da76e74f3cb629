/**
 * The worker side of an incremental COPY (copy-reuse.ts plans it on the main thread): the
 * manifest a copy leaves beside its layer, and, while copying onto the previous result, which
 * files and directories need nothing.
 *
 * The manifest is a directory: `heads.jsonl` has one line per source directory,
 * `[dirRel, destRel|null, treeSignature|null, fileCount, filesFile|null]`, and each `filesFile`
 * holds the JSON object of the files and symlinks copied from that directory
 * (`name → [statKey, destRel]`). A directory the next copy skips (unchanged tree signature)
 * keeps its head and its files file, hard-linked, unread: editing one file of a big context
 * costs a few small files, not the whole manifest.
 */
import { linkSync, mkdirSync, readFileSync, writeFileSync, type Stats } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { isRacy, statKey } from '../../source/context-index.ts';

const MAGIC = 'kiln-copy-manifest 4';
const HEADS = 'heads.jsonl';

/** What one source directory's line records. */
interface DirEntry {
  /** Where the directory itself went, when the copy walked it. */
  dest: string | null;
  /** Its tree signature (context-index.ts) when the copy walked it, when known. */
  tree: string | null;
  files: Record<string, [statKey: string, destRel: string]>;
}

/**
 * An incremental copy (a COPY from a local context that ran before with the same action and
 * base): its destination already shows the previous result (the mounted root over a delta, or
 * the layer cloned with hard links: copy-reuse.ts); a file whose source still has the recorded
 * stat key is left as it is, everything else is copied as usual (an existing target is always
 * unlinked first, never written in place). `manifestOut` receives the new manifest.
 */
export interface CopyReuse {
  /** The previous copy's manifest file; absent on a first copy (which only records one). */
  prevManifest?: string;
  manifestOut: string;
  /** The context's tree signatures now (context-index.ts): a directory whose signature is the one the previous copy recorded is skipped whole. */
  trees?: Record<string, string>;
}

/** What an incremental copy reports: destination paths (layer-relative) the source no longer has, and counts. */
export interface CopyResult {
  removed: string[];
  /** Files and symlinks left as the previous copy made them. */
  reused: number;
  /** Files and symlinks written. */
  copied: number;
  /** Apparent size of the files and symlinks the copy leaves in the layer (reused ones included); unknown when directories were skipped. */
  bytes?: number;
}

/** A previous manifest's directory: its head, its files read on demand. */
interface PrevLine {
  dest: string | null;
  tree: string | null;
  count: number;
  /** The files file (absolute path), when the directory had files. */
  filesPath: string | null;
  files?: DirEntry['files'];
}

/** One incremental copy in progress (worker side). */
export interface ReuseState {
  bytes: number;
  reused: number;
  copied: number;
  prev?: Map<string, PrevLine>;
  next: Map<string, DirEntry>;
  /** Source paths (files and directories) this copy walked. */
  visited: Set<string>;
  trees: Record<string, string>;
  /** Source directories left as the previous copy made them (unchanged tree signature). */
  skipped: Set<string>;
  now: number;
}

const split = (rel: string): [dir: string, name: string] => {
  const i = rel.lastIndexOf('/');
  return i < 0 ? ['', rel] : [rel.slice(0, i), rel.slice(i + 1)];
};
const under = (dir: string, name: string) => (dir ? `${dir}/${name}` : name);

type Head = [dir: string, dest: string | null, tree: string | null, count: number, filesFile: string | null];

function readManifest(dir: string): Map<string, PrevLine> | undefined {
  let text: string;
  try {
    text = readFileSync(join(dir, HEADS), 'utf8');
  } catch {
    return undefined;
  }
  const lines = text.split('\n');
  if (lines[0] !== MAGIC) return undefined;
  const out = new Map<string, PrevLine>();
  for (const line of lines.slice(1)) {
    if (!line) continue;
    const [d, dest, tree, count, file] = JSON.parse(line) as Head;
    out.set(d, { dest, tree, count, filesPath: file ? join(dir, file) : null });
  }
  return out;
}

function prevFiles(p: PrevLine): DirEntry['files'] {
  return (p.files ??= p.filesPath ? (JSON.parse(readFileSync(p.filesPath, 'utf8')) as DirEntry['files']) : {});
}

/** The files file of source directory `dir` (a name from its path's hash). */
const filesFileOf = (dir: string) => `f-${createHash('sha256').update(dir).digest('hex').slice(0, 24)}.json`;

/** The bookkeeping of one incremental copy: the previous manifest (if any) and the one being made. */
export async function openCopyReuse(r: CopyReuse): Promise<ReuseState> {
  const prev = r.prevManifest ? readManifest(r.prevManifest) : undefined;
  return { prev, next: new Map(), visited: new Set(), trees: r.trees ?? {}, skipped: new Set(), now: Date.now(), reused: 0, copied: 0, bytes: 0 };
}

const entryOf = (r: ReuseState, dir: string): DirEntry => {
  let e = r.next.get(dir);
  if (!e) r.next.set(dir, (e = { dest: null, tree: null, files: {} }));
  return e;
};

/**
 * Records a file or symlink the copy visits (`srcRel` → `destRel`) and says whether the
 * previous copy left this very file in place (same source stat key, same place): then there is
 * nothing to do for it. The previous result is immutable and the manifest describes it, so the
 * destination itself is not looked at. Hard-linked sources are always copied (their links are
 * made by the copy).
 */
export function reusable(r: ReuseState, srcRel: string, destRel: string, st: Stats): boolean {
  r.visited.add(srcRel);
  const key = statKey(st);
  const [dir, name] = split(srcRel);
  if (!isRacy(st, r.now)) entryOf(r, dir).files[name] = [key, destRel];
  const line = st.nlink === 1 ? r.prev?.get(dir) : undefined;
  const p = line ? prevFiles(line)[name] : undefined;
  const same = !!p && p[0] === key && p[1] === destRel;
  if (same) r.reused++;
  else r.copied++;
  r.bytes += st.size;
  return same;
}

/** Records a directory the copy visits. */
export function recordDir(r: ReuseState, srcRel: string, destRel: string): void {
  r.visited.add(srcRel);
  const e = entryOf(r, srcRel);
  e.dest = destRel;
  e.tree = r.trees[srcRel] ?? null;
}

/**
 * Whether directory `srcRel` is as the previous copy copied it (same tree signature, same
 * place): then the copy skips it, and its lines carry over.
 */
export function unchangedDir(r: ReuseState, srcRel: string, destRel: string): boolean {
  const tree = r.trees[srcRel];
  const p = r.prev?.get(srcRel);
  if (!tree || !p || p.tree !== tree || p.dest !== destRel) return false;
  r.skipped.add(srcRel);
  r.visited.add(srcRel);
  return true;
}

/** Whether `dir` is (or is under) a skipped directory. */
function inSkipped(skipped: Set<string>, dir: string): boolean {
  if (skipped.has('')) return true;
  for (let p = dir; p; p = split(p)[0]) if (skipped.has(p)) return true;
  return false;
}

/** Writes the new manifest (directory `manifestOut`); what the previous copy had and this one did not visit is to be removed. */
export async function finishCopyReuse(r: ReuseState, manifestOut: string): Promise<CopyResult> {
  mkdirSync(manifestOut, { recursive: true });
  const heads = [MAGIC];
  const removed: string[] = [];
  for (const [dir, p] of r.prev ?? []) {
    if (!r.next.has(dir) && r.skipped.size && inSkipped(r.skipped, dir)) {
      // As the previous copy left it: the head again, the files file linked.
      const file = p.filesPath ? filesFileOf(dir) : null;
      if (p.filesPath && file) linkSync(p.filesPath, join(manifestOut, file));
      heads.push(JSON.stringify([dir, p.dest, p.tree, p.count, file] satisfies Head));
      r.reused += p.count;
      continue;
    }
    for (const [name, [, destRel]] of Object.entries(prevFiles(p))) if (!r.visited.has(under(dir, name))) removed.push(destRel);
    if (p.dest !== null && !r.visited.has(dir)) removed.push(p.dest);
  }
  for (const [dir, e] of r.next) {
    const count = Object.keys(e.files).length;
    const file = count ? filesFileOf(dir) : null;
    if (file) writeFileSync(join(manifestOut, file), JSON.stringify(e.files));
    heads.push(JSON.stringify([dir, e.dest, e.tree, count, file] satisfies Head));
  }
  writeFileSync(join(manifestOut, HEADS), `${heads.join('\n')}\n`);
  return { removed, reused: r.reused, copied: r.copied, bytes: r.skipped.size ? undefined : r.bytes };
}
