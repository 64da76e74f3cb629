import { mkdir, rename, rm, writeFile, open, mkdtemp } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';

/**
 * Temp names handed out by this process, so that a forced exit (a build ended by a signal
 * before it could unwind) removes what it had not renamed into place yet, outputs included.
 * A name already renamed is simply not there any more.
 */
const handedOut = new Set<string>();

/** A name unlikely to collide with anything else being written at the same time. */
export function tempName(path: string): string {
  const name = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  if (handedOut.size > 100_000) handedOut.clear(); // old names: long renamed or removed
  handedOut.add(name);
  return name;
}

/** Removes every temp name and temp dir of this process that is still there (see tempName). */
export async function removeOwnTemps(): Promise<void> {
  for (const p of handedOut) await rm(p, { recursive: true, force: true }).catch(() => {});
  handedOut.clear();
}

/**
 * Writes `data` to `path` so that readers see either the old file or the complete new one:
 * write to a temp name in the same directory, fsync, rename. Safe to call concurrently.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = tempName(path);
  const fh = await open(tmp, 'w', mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** fsync of a directory: the names just created or renamed in it survive a power cut. */
export async function fsyncDir(dir: string): Promise<void> {
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}

export async function ensureDir(path: string): Promise<string> {
  await mkdir(path, { recursive: true });
  return path;
}

/** Removes a file or tree; missing paths are fine. */
export async function removeAll(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true, maxRetries: 3 });
}

/** A fresh private directory under the system temp dir (or `parent`); a forced exit removes it (see tempName). */
export async function makeTempDir(prefix: string, parent = tmpdir()): Promise<string> {
  await mkdir(parent, { recursive: true });
  const dir = await mkdtemp(join(parent, prefix));
  handedOut.add(dir);
  return dir;
}

export { writeFile };
