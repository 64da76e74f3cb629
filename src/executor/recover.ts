import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { removeAll } from '../util/fs.ts';
import { isProcessAlive } from '../util/process.ts';

const OWNED = /^kiln-(\d+)-[0-9a-f]+(\.bundle)?$/;

function forceDelete(runtime: string, stateDir: string, id: string): Promise<void> {
  return new Promise((resolve) => {
    const child = spawn(runtime, ['--root', stateDir, 'delete', '--force', id], { stdio: 'ignore' });
    child.on('error', () => resolve());
    child.on('close', () => resolve());
  });
}

/** Whether `pid`'s leftovers may go: it died, or it is this process (`own`: exiting now). */
const gone = (pid: number, own?: boolean) => (own && pid === process.pid) || !isProcessAlive(pid);

/**
 * Removes containers and bundles left by kiln processes that died (their ids carry the
 * owner's pid): `delete --force` kills what still runs. Containers of live processes are
 * never touched, so concurrent builds are safe. `own`: this process's too (a build that must
 * end now, on a signal).
 */
export async function recoverContainers(stateDir: string, runtime = 'runc', opts: { own?: boolean } = {}): Promise<number> {
  let n = 0;
  for (const name of await readdir(stateDir).catch(() => [] as string[])) {
    const m = OWNED.exec(name);
    if (!m || !gone(Number(m[1]), opts.own)) continue;
    if (!m[2]) await forceDelete(runtime, stateDir, name);
    await removeAll(join(stateDir, name));
    n++;
  }
  return n;
}
