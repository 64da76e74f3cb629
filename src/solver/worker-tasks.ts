import { createLayerBlob } from '../snapshot/pack.ts';
import { checksumTree } from '../source/local-checksum.ts';

/**
 * CPU-heavy tasks that run on worker threads: each takes and returns plain
 * (structured-clone) values. The pool (worker-pool.ts) calls them by name.
 */
export const workerTasks = {
  createLayerBlob: (dir: string, dest: string, opts?: Parameters<typeof createLayerBlob>[2]) => createLayerBlob(dir, dest, opts),
  checksumTree: (root: string, filter?: Parameters<typeof checksumTree>[1]) => checksumTree(root, filter),
  /** Nothing: starting a worker early (while the frontend runs) hides its start-up time. */
  ping: async () => true,
};

export type WorkerTasks = typeof workerTasks;
export type TaskName = keyof WorkerTasks;
