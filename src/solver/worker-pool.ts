import { availableParallelism } from 'node:os';
import { startWorker } from '../platform/workers.ts';
import { unflattenError, type FlatError } from '../util/errors.ts';
import type { TaskName, WorkerTasks } from './worker-tasks.ts';

type Result<T extends TaskName> = Awaited<ReturnType<WorkerTasks[T]>>;

/**
 * A pool of worker threads sized to the machine. Tasks queue when all workers are busy;
 * workers start on first use and are unref'd so an idle pool never keeps the process alive.
 * Errors come back as KilnError/Error with the worker's message and stack.
 */
export interface WorkerPool {
  run<T extends TaskName>(task: T, ...args: Parameters<WorkerTasks[T]>): Promise<Result<T>>;
  /** run(), with `onProgress` told the byte counts the task reports (task-progress.ts). */
  runReporting<T extends TaskName>(task: T, onProgress: (n: number) => void, ...args: Parameters<WorkerTasks[T]>): Promise<Result<T>>;
  close(): void;
  /** How many workers the pool runs at most. */
  readonly size: number;
}

interface Slot {
  worker: Worker;
  busy: boolean;
}

export function createWorkerPool(size = Math.max(1, availableParallelism())): WorkerPool {
  const slots: Slot[] = [];
  const queue: (() => void)[] = [];
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; slot: Slot; onProgress?: (n: number) => void }>();
  let nextId = 1;

  const release = (slot: Slot) => {
    slot.busy = false;
    (slot.worker as unknown as { unref?: () => void }).unref?.();
    queue.shift()?.();
  };

  const acquire = async (): Promise<Slot> => {
    for (;;) {
      const free = slots.find((s) => !s.busy);
      if (free) {
        free.busy = true;
        return free;
      }
      if (slots.length < size) {
        const worker = startWorker('./solver/worker.ts');
        const slot: Slot = { worker, busy: true };
        worker.onmessage = (e: MessageEvent<{ id: number; result?: unknown; error?: FlatError; progress?: number }>) => {
          const p = pending.get(e.data.id);
          if (!p) return;
          if (e.data.progress !== undefined) {
            p.onProgress?.(e.data.progress);
            return;
          }
          pending.delete(e.data.id);
          release(p.slot);
          if (e.data.error) p.reject(unflattenError(e.data.error));
          else p.resolve(e.data.result);
        };
        worker.onerror = (e: ErrorEvent) => {
          for (const [id, p] of pending) {
            if (p.slot !== slot) continue;
            pending.delete(id);
            p.reject(new Error(`worker thread failed: ${e.message}`));
          }
          slots.splice(slots.indexOf(slot), 1);
          worker.terminate();
          queue.shift()?.();
        };
        slots.push(slot);
        return slot;
      }
      await new Promise<void>((r) => queue.push(r));
    }
  };

  async function runReporting(task: TaskName, onProgress: ((n: number) => void) | undefined, ...args: unknown[]): Promise<unknown> {
    const slot = await acquire();
    (slot.worker as unknown as { ref?: () => void }).ref?.();
    const id = nextId++;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject, slot, onProgress });
      slot.worker.postMessage({ id, task, args });
    });
  }

  const pool: WorkerPool = {
    run: ((task: TaskName, ...args: unknown[]) => runReporting(task, undefined, ...args)) as WorkerPool['run'],
    runReporting: runReporting as WorkerPool['runReporting'],
    size,
    close() {
      for (const s of slots) s.worker.terminate();
      slots.length = 0;
      if (shared === pool) shared = undefined;
    },
  };
  return pool;
}

let shared: WorkerPool | undefined;

/** The process's pool, created on first use; close() ends it (the next call makes a new one). */
export function sharedWorkerPool(): WorkerPool {
  return (shared ??= createWorkerPool());
}

/**
 * Boots every worker of the shared pool now: `kiln build` calls this first thing, so the
 * workers start (and load their tasks' code) while the rest of kiln loads, and are ready
 * when the context checksum, the first COPY or the first layer needs one.
 */
export function prestartWorkers(): void {
  const pool = sharedWorkerPool();
  for (let i = 0; i < pool.size; i++) void pool.run('ping').catch(() => {});
}
