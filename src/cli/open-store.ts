import { join } from 'node:path';
import { removeOwnTemps } from '../util/fs.ts';
import { openStore, recoverStateDir, stateLayout, type Store } from '../store/index.ts';
import { recoverContainers } from '../executor/index.ts';

/**
 * Opens the state dir the way every command must after a crash: first the containers of
 * dead kiln processes are deleted (so their overlays are no longer busy), then the store
 * cleans up their mounts, temp snapshots and temp files (openStore).
 */
export async function openStoreAfterCrash(root: string, runtime?: string): Promise<Store> {
  await recoverContainers(join(stateLayout(root).run, 'executor'), runtime === 'crun' ? 'crun' : 'runc');
  return openStore(root);
}

/**
 * What a build that must end now (a signal it could not finish unwinding from in time) leaves:
 * its containers killed and deleted, its mounts unmounted, its run dirs, temp snapshots, temp
 * blobs, secret files and agent sockets removed. What a dead process leaves, but for this one;
 * other processes' work is not touched. Never throws.
 */
export async function cleanupOwnLeftovers(root: string, runtime?: string): Promise<void> {
  const layout = stateLayout(root);
  await recoverContainers(join(layout.run, 'executor'), runtime === 'crun' ? 'crun' : 'runc', { own: true }).catch(() => {});
  await recoverStateDir(layout, { own: true }).catch(() => {});
  await removeOwnTemps();
}
