import { join } from 'node:path';
import { openStore, stateLayout, type Store } from '../store/index.ts';
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
