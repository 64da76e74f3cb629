import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import { KilnError } from '../util/errors.ts';
import type { SourceFactory, SourceInstance } from './types.ts';
import { checksumTree, type ChecksumFilter } from './local-checksum.ts';
import { checksumSelected } from './local-selected.ts';

/** Where the metadata index of local directory `dir` lives under `indexDir` (a path prefix: see context-index.ts). */
export function contextIndexFile(indexDir: string, dir: string): string {
  return join(indexDir, createHash('sha256').update(resolve(dir)).digest('hex').slice(0, 32));
}

/** Named local directories of a build (`context`, `dockerfile`, `--build-context NAME=DIR`). */
export type LocalDirs = Record<string, string>;

/**
 * `local://NAME`: the directory is read in place (no copy). Its cache key is the content
 * checksum of the files it exposes, so an identical tree gives the same key on any run.
 */
/**
 * `checksum` may run elsewhere (a worker thread); it defaults to checksumTree in this thread.
 * With `indexDir`, each directory keeps a metadata index there, so a rebuild reads only the
 * files that changed (see context-index.ts).
 */
export function createLocalSource(
  dirs: LocalDirs,
  checksum: (dir: string, filter?: ChecksumFilter) => Promise<string> = checksumTree,
  indexDir?: string,
  /** Bytes of `dir` the build's checksums read so far (reported as the context's transfer). */
  bytesRead?: (dir: string) => number,
): SourceFactory {
  return function localSource(identifier, attrs, ctx): SourceInstance {
    const name = identifier.slice('local://'.length);
    const dir = dirs[name];
    if (!dir) throw new KilnError(`no local directory named "${name}" was given to this build`, { kind: 'usage', hint: `pass --local ${name}=DIR` });
    const excludes: string[] = attrs['local.excludepatterns'] ? JSON.parse(attrs['local.excludepatterns']) : [];
    const indexFile = indexDir ? contextIndexFile(indexDir, dir) : undefined;
    let sum: Promise<string> | undefined;
    return {
      cacheable: false,
      cacheKeyParts: () => (sum ??= checksum(dir, { excludePatterns: excludes, indexFile })),
      contentKey: (paths) => checksumSelected(dir, paths, excludes, checksum, indexFile),
      async load() {
        // kiln reads a context in place: what it "transfers" is what its checksums had to read.
        const read = bytesRead?.(dir);
        if (read !== undefined) {
          const t = ctx.transfer?.(`context ${name}`, 'transferring context:');
          t?.add(read);
          t?.done();
        }
        return { kind: 'local', name, dir, excludePatterns: excludes, indexFile };
      },
    };
  };
}
