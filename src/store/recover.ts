import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { umount } from '../platform/linux-fs.ts';
import { removeAll } from '../util/fs.ts';
import type { StateLayout } from './state-dir.ts';
import { isProcessAlive } from '../util/process.ts';

const OWNED = /^(?:tmp-)?(\d+)-/;
const TEMP_FILE = /\.tmp-(\d+)-[0-9a-f]+$/;

/** Mount points under `dir`, deepest first. */
async function mountsUnder(dir: string): Promise<string[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  return text
    .split('\n')
    .map((l) => l.split(' ')[4]?.replace(/\\040/g, ' '))
    .filter((m): m is string => !!m && (m === dir || m.startsWith(`${dir}/`)))
    .sort((a, b) => b.length - a.length);
}

/**
 * Cleans up after kiln processes that died (kill -9, power loss): their half-written
 * snapshots (`snapshots/tmp-PID-*`, never recorded), run dirs (`run/PID-*`, with any
 * overlay still mounted there) and temp files of blobs (`*.tmp-PID-*`). Entries of live processes are left alone, so this is safe
 * while other builds run on the same state dir.
 */
export async function recoverStateDir(layout: StateLayout, opts: { own?: boolean } = {}): Promise<number> {
  let removed = 0;
  const gone = (pid: number) => (opts.own && pid === process.pid) || !isProcessAlive(pid);
  for (const dir of [layout.snapshots, layout.run]) {
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      const m = OWNED.exec(name);
      if (!m || !gone(Number(m[1]))) continue;
      const path = join(dir, name);
      for (const mp of await mountsUnder(path)) await umount(mp).catch(() => {});
      await removeAll(path);
      removed++;
    }
  }
  // Temp files of unfinished writes (`NAME.tmp-PID-RAND`): blobs being downloaded or stored.
  for (const dir of [layout.ingest, layout.blobs, layout.run]) {
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      const m = TEMP_FILE.exec(name);
      if (!m || !gone(Number(m[1]))) continue;
      await removeAll(join(dir, name));
      removed++;
    }
  }
  // Secret files and SSH agent sockets of RUN steps (outside the state dir, named by pid).
  for (const dir of STEP_TEMP_DIRS) {
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      const m = STEP_TEMP.exec(name);
      if (!m || !gone(Number(m[1]))) continue;
      await removeAll(join(dir, name));
      removed++;
    }
  }
  return removed;
}

/** Where RUN steps keep secrets (tmpfs) and agent sockets: `kiln-secret-PID-*`, `kiln-ssh-PID-*`. */
const STEP_TEMP_DIRS = ['/dev/shm', tmpdir()];
const STEP_TEMP = /^kiln-(?:secret|ssh)-(\d+)-/;
