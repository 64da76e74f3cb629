import { createReadStream } from 'node:fs';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { KilnError } from '../util/errors.ts';
import type { Digest } from '../util/digest.ts';
import { createPatternMatcher } from '../util/patternmatcher.ts';

/** What to leave out of a checksum: .dockerignore patterns, matched on `prefix/rel`. */
export interface ChecksumFilter {
  excludePatterns?: string[];
  /** The tree's path inside the context (for matching), '' for the context root. */
  prefix?: string;
}

/** A predicate for checksumTree from .dockerignore patterns (true = leave out). */
export function excludeFilter(f: ChecksumFilter = {}): (rel: string, isDir: boolean) => boolean {
  if (!f.excludePatterns?.length) return () => false;
  const m = createPatternMatcher(f.excludePatterns);
  const pre = f.prefix ? `${f.prefix.replace(/^\/+|\/+$/g, '')}/` : '';
  // An excluded directory is still walked when a `!` pattern may re-include something in it.
  return (rel, isDir) => m.matchesOrParentMatches(`${pre}${rel}`.replace(/^\/+/, '')) && (!isDir || !m.exclusions);
}

/**
 * A content checksum of a directory tree: paths, types, permission bits, owners are
 * ignored (context files become root's), sizes, file contents and link targets. mtimes do
 * not count, so touching a file changes nothing. Paths the filter excludes do not count
 * (an excluded directory drops everything under it).
 */
export async function checksumTree(root: string, filter: ChecksumFilter = {}): Promise<Digest> {
  const exclude = excludeFilter(filter);
  const h = createHash('sha256');
  const walk = async (rel: string): Promise<void> => {
    const dir = join(root, rel);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (err) {
      throw new KilnError(`cannot read ${rel || '.'} in the build context: ${(err as Error).message}`, { kind: 'input' });
    }
    names.sort();
    // Stat and hash the entries of a directory concurrently; feed the hash in name order.
    const infos = await mapLimit(names, 32, async (name) => {
      const r = rel ? `${rel}/${name}` : name;
      const abs = join(root, r);
      const st = await lstat(abs);
      const sum = st.isFile() && !exclude(r, false) ? await fileDigest(abs, r, st.size) : '';
      return { name, r, abs, st, sum };
    });
    for (const { r, abs, st, sum } of infos) {
      if (exclude(r, st.isDirectory())) continue;
      const mode = (st.mode & 0o7777).toString(8);
      if (st.isDirectory()) {
        h.update(`d ${r} ${mode}\0`);
        await walk(r);
      } else if (st.isSymbolicLink()) {
        h.update(`l ${r} ${await readlink(abs)}\0`);
      } else if (st.isFile()) {
        h.update(`f ${r} ${mode} ${st.size} ${sum}\0`);
      } else {
        throw new KilnError(`the build context holds ${r}, which is not a regular file, directory or symlink`, {
          kind: 'input',
          hint: 'remove it or list it in .dockerignore',
        });
      }
    }
  };
  await walk('');
  return `sha256:${h.digest('hex')}`;
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
