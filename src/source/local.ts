import { KilnError } from '../util/errors.ts';
import type { SourceFactory, SourceInstance } from './types.ts';
import { checksumTree, type ChecksumFilter } from './local-checksum.ts';
import { checksumSelected } from './local-selected.ts';

/** Named local directories of a build (`context`, `dockerfile`, `--build-context NAME=DIR`). */
export type LocalDirs = Record<string, string>;

/**
 * `local://NAME`: the directory is read in place (no copy). Its cache key is the content
 * checksum of the files it exposes, so an identical tree gives the same key on any run.
 */
/** `checksum` may run elsewhere (a worker thread); it defaults to checksumTree in this thread. */
export function createLocalSource(dirs: LocalDirs, checksum: (dir: string, filter?: ChecksumFilter) => Promise<string> = checksumTree): SourceFactory {
  return function localSource(identifier, attrs): SourceInstance {
    const name = identifier.slice('local://'.length);
    const dir = dirs[name];
    if (!dir) throw new KilnError(`no local directory named "${name}" was given to this build`, { kind: 'usage', hint: `pass --local ${name}=DIR` });
    const excludes: string[] = attrs['local.excludepatterns'] ? JSON.parse(attrs['local.excludepatterns']) : [];
    let sum: Promise<string> | undefined;
    return {
      cacheable: false,
      cacheKeyParts: () => (sum ??= checksum(dir, { excludePatterns: excludes })),
      contentKey: (paths) => checksumSelected(dir, paths, excludes, checksum),
      async load() {
        return { kind: 'local', name, dir, excludePatterns: excludes };
      },
    };
  };
}
