import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Where kiln keeps its state: `--root`, else `KILN_ROOT`, else `root` of the config file,
 * else `/var/lib/kiln` as root, else `$XDG_DATA_HOME/kiln` (default `~/.local/share/kiln`).
 */
export function resolveStateDir(flag?: string, env: NodeJS.ProcessEnv = process.env, configRoot?: string): string {
  if (flag) return flag;
  if (env.KILN_ROOT) return env.KILN_ROOT;
  if (configRoot) return configRoot;
  if (typeof process.getuid === 'function' && process.getuid() === 0) return '/var/lib/kiln';
  const xdg = env.XDG_DATA_HOME || join(env.HOME || homedir(), '.local', 'share');
  return join(xdg, 'kiln');
}

/** The fixed layout under the state dir (see ARCHITECTURE.md). */
export function stateLayout(root: string) {
  return {
    root,
    blobs: join(root, 'content', 'blobs', 'sha256'),
    ingest: join(root, 'content', 'ingest'),
    snapshots: join(root, 'snapshots'),
    cacheMounts: join(root, 'mounts', 'cache'),
    run: join(root, 'run'),
    /** Metadata indexes of build contexts (a cache: deleting it only costs hashing). */
    contextIndex: join(root, 'contexts'),
    db: join(root, 'kiln.db'),
  };
}

export type StateLayout = ReturnType<typeof stateLayout>;
