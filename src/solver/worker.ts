/** Worker thread entry: runs named tasks from worker-tasks.ts for the pool. */
import { workerTasks, type TaskName } from './worker-tasks.ts';
import { flattenError } from '../util/errors.ts';
import { withTaskProgress } from './task-progress.ts';

interface Request {
  id: number;
  task: TaskName;
  args: unknown[];
}

self.onmessage = async (e: MessageEvent<Request>) => {
  const { id, task, args } = e.data;
  try {
    const fn = workerTasks[task] as (...a: unknown[]) => Promise<unknown>;
    if (!fn) throw new Error(`unknown worker task ${task}`);
    const result = await withTaskProgress((progress) => postMessage({ id, progress }), () => fn(...args));
    postMessage({ id, result });
  } catch (err) {
    postMessage({ id, error: flattenError(err) });
  }
};
