import { fileTreeAt } from './file-tree.ts';
import { readIgnoreFile } from '../util/patternmatcher.ts';
import type { ChecksumFilter } from '../source/local-checksum.ts';
import { contextIndexFile } from '../source/local.ts';
import type { BuildRequest } from './request.ts';

export type Checksum = (dir: string, filter?: ChecksumFilter) => Promise<string>;

/** One checksum per directory and filter per build: a second request gets the first answer. */
export function memoChecksum(checksum: Checksum): Checksum {
  const memo = new Map<string, Promise<string>>();
  return (dir, filter = {}) => {
    const key = JSON.stringify([dir, filter.excludePatterns ?? [], filter.prefix ?? '', filter.indexFile ?? '']);
    let p = memo.get(key);
    if (!p) {
      p = checksum(dir, filter);
      memo.set(key, p);
      p.catch(() => memo.delete(key));
    }
    return p;
  };
}

/**
 * Starts hashing the whole build context on a worker while the frontend runs, with the
 * excludes the dockerfile frontend will read (`<Dockerfile>.dockerignore` beside the
 * Dockerfile, else `.dockerignore`): a `COPY .` then finds its key ready. A wrong guess
 * costs only a worker's time, and still refreshes the context's metadata index.
 */
export async function prefetchContext(req: BuildRequest, checksum: Checksum, indexDir: string): Promise<void> {
  const context = req.locals.context;
  if (!context || (req.frontend !== 'dockerfile.v0' && req.frontend !== 'dockerfile')) return;
  // read inside their directories, as the frontend reads them (a symlink never reaches the host)
  const candidates = [[req.locals.dockerfile ?? context, `${req.filename}.dockerignore`], [context, '.dockerignore']] as const;
  let excludePatterns: string[] = [];
  for (const [dir, name] of candidates) {
    const text = await fileTreeAt(dir, dir).readFile(name).then((b) => Buffer.from(b).toString('utf8'), () => undefined);
    if (text === undefined) continue;
    excludePatterns = readIgnoreFile(text);
    break;
  }
  await checksum(context, { excludePatterns, prefix: '', indexFile: contextIndexFile(indexDir, context) }).catch(() => {});
}
