import { createReadStream } from 'node:fs';
import { lstatSync, readdirSync, type Stats } from 'node:fs';
import { readFile, readlink } from 'node:fs/promises';
import { isRacy, openContextIndex, statKey, treeSeedOf, type ContextIndex } from './context-index.ts';
import { createHash } from 'node:crypto';
import { KilnError, shortPath } from '../util/errors.ts';
import type { Digest } from '../util/digest.ts';
import { ignoreRules } from '../util/patternmatcher.ts';

/** What to leave out of a checksum: .dockerignore patterns, matched on `prefix/rel`. */
export interface ChecksumFilter {
  excludePatterns?: string[];
  /** The tree's path inside the context (for matching), '' for the context root. */
  prefix?: string;
  /** The context's metadata index file (see context-index.ts): only changed files are read. */
  indexFile?: string;
}

/** A predicate for checksumTree from .dockerignore patterns (true = leave out; see ignoreRules). */
export function excludeFilter(f: ChecksumFilter = {}): (rel: string, isDir: boolean) => boolean {
  return ignoreRules(f.excludePatterns, f.prefix).skip;
}

/**
 * A content checksum of a directory tree: paths, types, permission bits, sizes, file
 * contents and link targets count; owners (context files become root's) and mtimes do not,
 * so touching a file changes nothing. Paths the filter excludes do not count (an excluded
 * directory drops everything under it). Built as a Merkle tree: a directory's digest
 * covers its files' part and each subdirectory's digest, so with a metadata index
 * (context-index.ts) an unchanged directory costs one readdir and its entries' lstat.
 */
export async function checksumTree(root: string, filter: ChecksumFilter = {}): Promise<Digest> {
  return (await checksumTreeRead(root, filter)).digest;
}

/** checksumTree, and how many bytes of files it read (what the metadata index could not vouch for). */
export async function checksumTreeRead(root: string, filter: ChecksumFilter = {}): Promise<{ digest: Digest; bytesRead: number }> {
  const index = filter.indexFile ? openContextIndex(filter.indexFile) : undefined;
  const read = { bytes: 0 };
  const walk = treeWalker(root, filter, index, read);
  const { digest } = await walk('', lstatSync(root, { throwIfNoEntry: false }));
  index?.save();
  return { digest: `sha256:${digest}`, bytesRead: read.bytes };
}

type Walk = (rel: string, dst: Stats | undefined) => Promise<{ digest: string; tree?: string }>;

/**
 * kiln reads names as UTF-8 (node:fs strings); a name that is not valid UTF-8 would be read
 * back as another name. Throws when `dir` holds one (a name with U+FFFD may be a true one).
 */
function refuseNonUtf8(dir: string, rel: string): void {
  for (const raw of readdirSync(dir, { encoding: 'buffer' })) {
    if (Buffer.from(raw.toString('utf8')).equals(raw)) continue;
    throw new KilnError(`the build context holds a name that is not valid UTF-8 in ${rel || '.'}: ${JSON.stringify(raw.toString('latin1'))}`, {
      kind: 'input',
      hint: 'rename it (kiln reads file names as UTF-8), or list it in .dockerignore',
    });
  }
}

/** The walk of checksumTree: a directory's digest and tree signature. */
function treeWalker(root: string, filter: ChecksumFilter, index: ContextIndex | undefined, read: { bytes: number } = { bytes: 0 }): Walk {
  const exclude = excludeFilter(filter);
  const pre = filter.prefix ? `${filter.prefix.replace(/^\/+|\/+$/g, '')}/` : '';
  const now = Date.now();
  // Tree signatures hold the exclude patterns they were taken under.
  const treeSeed = index ? treeSeedOf(filter.excludePatterns) : '';
  /** A directory's digest, and its tree signature (undefined when racy or without an index). */
  const walk = async (rel: string, dst: Stats | undefined): Promise<{ digest: string; tree?: string }> => {
    const dir = rel ? `${root}/${rel}` : root;
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch (err) {
      throw new KilnError(`cannot read ${rel || '.'} in the build context: ${(err as Error).message}`, { kind: 'input' });
    }
    names.sort();
    // Stat synchronously (cheap, and this runs on a worker thread).
    const entries: { name: string; r: string; abs: string; st: Stats }[] = [];
    let sig = '';
    let racy = false;
    for (const name of names) {
      const r = rel ? `${rel}/${name}` : name;
      const abs = `${dir}/${name}`;
      if (name.includes('\uFFFD')) refuseNonUtf8(dir, rel);
      let st: Stats;
      try {
        st = lstatSync(abs);
      } catch (err) {
        throw new KilnError(`cannot read ${shortPath(r)} in the build context: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { kind: 'input' });
      }
      if (exclude(r, st.isDirectory())) continue;
      if (!st.isDirectory() && !st.isFile() && !st.isSymbolicLink()) {
        throw new KilnError(`the build context holds ${r}, which is not a regular file, directory or symlink`, { kind: 'input', hint: 'remove it or list it in .dockerignore' });
      }
      entries.push({ name, r, abs, st });
      if (!st.isDirectory()) {
        sig += `${name}\0${st.mode}:${statKey(st)}\0`;
        racy ||= isRacy(st, now);
      }
    }
    const key = rel ? pre + rel : pre.slice(0, -1); // the directory's path in the context
    const signature = index ? createHash('sha256').update(sig).digest('hex') : '';
    let part = index?.dirPart(key, signature);
    if (part === undefined) part = await filesPart(entries, key);
    let text = `files ${part}\0`;
    let treeText = index && dst && !racy && !isRacy(dst, now) ? `${treeSeed}\0${dst.mode}:${statKey(dst)}\0${sig}` : undefined;
    for (const e of entries) {
      if (!e.st.isDirectory()) continue;
      const sub = await walk(e.r, e.st);
      text += `d ${e.name} ${(e.st.mode & 0o7777).toString(8)} ${sub.digest}\0`;
      treeText = treeText !== undefined && sub.tree ? `${treeText}d ${e.name} ${sub.tree}\0` : undefined;
    }
    const tree = treeText !== undefined ? treeSeed + createHash('sha256').update(treeText).digest('hex') : undefined;
    index?.rememberDir(key, signature, part, racy, tree);
    return { digest: createHash('sha256').update(text).digest('hex'), tree };
  };
  /** The files and symlinks of one directory, hashed (or looked up in the index) concurrently. */
  const filesPart = async (entries: { name: string; r: string; abs: string; st: Stats }[], key: string): Promise<string> => {
    const files = entries.filter((e) => !e.st.isDirectory());
    const sums = await mapLimit(files, 32, async (e) => {
      if (e.st.isSymbolicLink()) return `l ${e.name} ${await readlink(e.abs)}`;
      const k = key ? `${key}/${e.name}` : e.name;
      let sum = index?.file(k, e.st);
      if (sum === undefined) {
        sum = await fileDigest(e.abs, e.r, e.st.size);
        read.bytes += e.st.size;
        index?.rememberFile(k, e.st, sum);
      }
      return `f ${e.name} ${(e.st.mode & 0o7777).toString(8)} ${e.st.size} ${sum}`;
    });
    index?.dirFiles(key, files.map((e) => e.name));
    return createHash('sha256').update(sums.join('\0')).digest('hex');
  };
  return walk;
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

const SMALL = 1 << 20;

async function fileDigest(path: string, rel: string, size: number): Promise<string> {
  if (size <= SMALL) {
    try {
      return createHash('sha256').update(await readFile(path)).digest('hex');
    } catch (err) {
      throw new KilnError(`cannot read ${rel} in the build context: ${(err as Error).message}`, { kind: 'input' });
    }
  }
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (c) => h.update(c))
      .on('error', (err) => reject(new KilnError(`cannot read ${rel} in the build context: ${err.message}`, { kind: 'input' })))
      .on('end', () => resolve(h.digest('hex')));
  });
}
