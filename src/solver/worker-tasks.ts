import { createLayerBlob } from '../snapshot/pack.ts';
import { checksumTree } from '../source/local-checksum.ts';
import { copyFiles } from './ops/file-copy.ts';

/**
 * CPU-heavy tasks that run on worker threads: each takes and returns plain
 * (structured-clone) values. The pool (worker-pool.ts) calls them by name.
 */
export const workerTasks = {
  createLayerBlob: (dir: string, dest: string, opts?: Parameters<typeof createLayerBlob>[2]) => createLayerBlob(dir, dest, opts),
  checksumTree: (root: string, filter?: Parameters<typeof checksumTree>[1]) => checksumTree(root, filter),
  /** COPY/ADD: file reads, writes and archive extraction (mounts are made by the caller). */
  copyFiles: (a: Parameters<typeof copyFiles>[0], o: Parameters<typeof copyFiles>[1]) => copyFiles(a, o),
  /** Nothing: starting a worker early (while the frontend runs) hides its start-up time. */
  ping: async () => true,
};

export type WorkerTasks = typeof workerTasks;
export type TaskName = keyof WorkerTasks;
