import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { openContextIndex } from './context-index.ts';
import { hasWildcards, matchPattern } from '../util/glob.ts';
import type { Digest } from '../util/digest.ts';
import { checksumTree, excludeFilter, type ChecksumFilter } from './local-checksum.ts';

function clean(p: string): string[] {
  const out: string[] = [];
  for (const c of p.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') out.pop();
    else out.push(c);
  }
  return out;
}

/** Paths under `root` that `pattern` names (wildcards per component, as COPY expands them). */
async function expand(root: string, pattern: string): Promise<string[]> {
  let cur = [''];
  for (const comp of clean(pattern)) {
    const next: string[] = [];
    for (const rel of cur) {
      if (!hasWildcards(comp)) {
        next.push(rel ? `${rel}/${comp}` : comp);
        continue;
      }
      const names = await readdir(join(root, rel)).catch(() => [] as string[]);
      for (const n of names.sort()) if (matchPattern(comp, n)) next.push(rel ? `${rel}/${n}` : n);
    }
    cur = next;
  }
  return cur;
}

/**
 * A content checksum of just the paths a step reads from a local directory (COPY sources,
 * wildcards expanded): editing any other file leaves it unchanged. Paths, types, modes,
 * sizes, contents and link targets count; mtimes do not.
 */
export async function checksumSelected(
  root: string,
  patterns: string[],
  excludePatterns: string[] = [],
  tree: (dir: string, filter?: ChecksumFilter) => Promise<string> = checksumTree,
  indexFile?: string,
): Promise<Digest> {
  const h = createHash('sha256');
  const excluded = excludeFilter({ excludePatterns });
  const index = indexFile ? openContextIndex(indexFile) : undefined;
  for (const pattern of [...patterns].sort()) {
    h.update(`pattern ${pattern}\0`);
    for (const rel of await expand(root, pattern)) {
      const abs = join(root, rel);
      if (rel && excluded(rel, false)) {
        h.update(`excluded ${rel}\0`);
        continue;
      }
      const st = await lstat(abs).catch(() => undefined);
      if (!st) h.update(`missing ${rel}\0`);
      else if (st.isDirectory()) h.update(`dir ${rel} ${(st.mode & 0o7777).toString(8)} ${await tree(abs, { excludePatterns, prefix: rel, indexFile })}\0`);
      else if (st.isSymbolicLink()) {
        const target = await readlink(abs);
        // COPY follows a top-level symlink: what it points to is what gets copied.
        const followed = await readFile(join(root, ...clean(target.startsWith('/') ? target : `${rel}/../${target}`))).catch(() => undefined);
        h.update(`link ${rel} ${target} ${followed ? createHash('sha256').update(followed).digest('hex') : '-'}\0`);
      } else if (st.isFile()) {
        // Through the context's metadata index: an unchanged file is not read again.
        let sum = index?.file(rel, st);
        if (sum === undefined) {
          sum = await hashFile(abs);
          index?.rememberFile(rel, st, sum);
        }
        h.update(`file ${rel} ${(st.mode & 0o7777).toString(8)} ${st.size} ${sum}\0`);
      } else h.update(`other ${rel}\0`);
    }
  }
  index?.save();
  return `sha256:${h.digest('hex')}`;
}

/** sha256 of a file, streamed (a big file never sits in memory). */
function hashFile(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (c) => hash.update(c))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}
