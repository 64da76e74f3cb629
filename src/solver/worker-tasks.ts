import type { createLayerBlob, layerDiff } from '../snapshot/pack.ts';
import { taskProgress } from './task-progress.ts';
import type { checksumTree } from '../source/local-checksum.ts';
import type { copyFiles } from './ops/file-copy.ts';

/**
 * CPU-heavy tasks that run on worker threads: each takes and returns plain
 * (structured-clone) values. The pool (worker-pool.ts) calls them by name. Each task loads its
 * module on first use, so a worker is ready for its first task as early as possible.
 */
export const workerTasks = {
  /** A layer blob; reports the bytes of tar packed (task-progress.ts). */
  createLayerBlob: async (dir: string | string[], dest: string, opts?: Parameters<typeof createLayerBlob>[2]) =>
    (await import('../snapshot/pack.ts')).createLayerBlob(dir, dest, { ...opts, onBytes: taskProgress() }),
  /** A layer's diff id and size, nothing written; reports the bytes of tar packed. */
  layerDiff: async (dir: string | string[], opts?: Parameters<typeof layerDiff>[1]) => (await import('../snapshot/pack.ts')).layerDiff(dir, { ...opts, onBytes: taskProgress() }),
  /** A context's checksum and the bytes it read. */
  checksumTree: async (root: string, filter?: Parameters<typeof checksumTree>[1]) => (await import('../source/local-checksum.ts')).checksumTreeRead(root, filter),
  /** COPY/ADD: file reads, writes and archive extraction (mounts are made by the caller). */
  copyFiles: async (a: Parameters<typeof copyFiles>[0], o: Parameters<typeof copyFiles>[1]) => (await import('./ops/file-copy.ts')).copyFiles(a, o),
  /** Incremental COPY: a layer cloned with hard links (see clone-layer.ts). */
  cloneLayer: async (from: string | string[], to: string) => (await import('../snapshot/clone-layer.ts')).cloneLayer(from, to),
  /** Diff ops compared tree by tree (see diff-trees.ts). */
  diffTrees: async (lower: string | undefined, upper: string, out: string) => (await import('../snapshot/diff-trees.ts')).diffTrees(lower, upper, out),
  /**
   * Answers at once, then loads every task's module in the background: a worker started early
   * (while the rest of kiln loads) has its start-up and its first task's loading behind it.
   */
  ping: async () => {
    void warmUp();
    return true;
  },
};

let warming: Promise<unknown> | undefined;
/** The tasks' modules loaded, and the layer packer run once on nothing (its first run costs ~10 ms of set-up). */
function warmUp(): Promise<unknown> {
  warming ??= Promise.all([import('../snapshot/pack.ts'), import('./ops/file-copy.ts'), import('../source/local-checksum.ts')])
    .then(([pack]) => pack.layerDiff([]))
    .catch(() => {});
  return warming;
}

export type WorkerTasks = typeof workerTasks;
export type TaskName = keyof WorkerTasks;
