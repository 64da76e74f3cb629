import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Store } from '../../store/index.ts';
import { removeAll } from '../../util/fs.ts';
import { mountOverlay, unmountPath } from '../../snapshot/overlay.ts';
import type { Ref } from '../types.ts';
import { snapshotLowerDirs } from './lower-dirs.ts';

/** What `fn` gets: the mounted, writable root and a scratch dir for its own mounts. */
export interface WritableRoot {
  root: string;
  runDir: string;
  /** The new layer's directory (the overlay's upper dir): read-only for `fn` while mounted. */
  upperDir: string;
}

/** Work on the new layer directory itself, while no overlay is mounted on it. */
export interface LayerHooks {
  /** Fills the fresh, empty layer before the overlay is mounted. */
  beforeMount?(upperDir: string): Promise<void>;
  /** Last changes after `fn` and the unmount, before the layer is committed. */
  afterUnmount?(upperDir: string): Promise<void>;
  /** The new layer is a delta that exports together with `base`'s layer (SnapshotRecord.joinsParent). */
  joinsParent?: boolean;
}

/**
 * Runs `fn` on a writable overlay of `base` (a fresh upper dir over its layers) and, when
 * `fn` succeeds, commits the upper dir as a new snapshot whose parent is `base`. On any
 * failure the upper dir is discarded. The overlay is always unmounted and the run dir
 * removed; `fn` must undo its own extra mounts.
 */
export async function withNewSnapshot(store: Store, base: Ref | undefined, fn: (w: WritableRoot) => Promise<void>, hooks: LayerHooks = {}): Promise<Ref> {
  const lowerDirs = await snapshotLowerDirs(store, base);
  const active = await store.snapshots.prepare();
  const runDir = join(store.layout.run, `${process.pid}-${randomBytes(6).toString('hex')}`);
  const root = join(runDir, 'root');
  await mkdir(root, { recursive: true });
  let mounted = false;
  try {
    await hooks.beforeMount?.(active.fs);
    // volatile: the store syncs the build's snapshots once, at its end (store/unsynced.ts).
    await mountOverlay({ lowerDirs, upperDir: active.fs, workDir: active.work, target: root, volatile: true });
    mounted = true;
    await fn({ root, runDir, upperDir: active.fs });
    mounted = false;
    await unmountPath(root);
    await hooks.afterUnmount?.(active.fs);
    const rec = await store.snapshots.commit(active, { parent: base?.kind === 'snapshot' ? base.id : null, joinsParent: hooks.joinsParent });
    return { kind: 'snapshot', id: rec.id };
  } catch (err) {
    if (mounted) await unmountPath(root).catch(() => {});
    await store.snapshots.discard(active);
    throw err;
  } finally {
    await removeAll(runDir);
  }
}
