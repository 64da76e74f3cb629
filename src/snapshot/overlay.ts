/**
 * Overlay mounts of snapshot layer directories. Lower dirs are given top first. Long
 * option strings (many layers) are kept under the kernel's page-size limit by mounting
 * from the lower dirs' common parent with relative paths.
 */
import { mkdir, rmdir } from 'node:fs/promises';
import { join, relative, dirname } from 'node:path';
import { mount, umount } from '../platform/linux-fs.ts';
import { makeTempDir } from '../util/fs.ts';
import { KilnError } from '../util/errors.ts';

export interface OverlayOptions {
  /** Top first; at least one. */
  lowerDirs: string[];
  upperDir?: string;
  workDir?: string;
  target: string;
  readonly?: boolean;
  /**
   * Mount with overlay's `volatile` option (Linux 5.10+; ignored where the kernel lacks it): no
   * sync of the upper dir's file system on unmount or on the step's fsyncs. Only for upper dirs
   * that are thrown away or committed through the store (whose SyncTracker syncs once per build).
   */
  volatile?: boolean;
}

/** Whether this kernel takes overlay's `volatile` option; learnt at the first writable mount. */
let volatileWorks: boolean | undefined;

const PAGE_LIMIT = 4000;

function commonParent(paths: string[]): string {
  let parent = dirname(paths[0]!);
  while (!paths.every((p) => p.startsWith(`${parent}/`)) && parent !== '/') parent = dirname(parent);
  return parent;
}

/** Mounts an overlay at `target` (which must exist). Without an upper dir the view is read-only. */
export async function mountOverlay(o: OverlayOptions): Promise<void> {
  if (o.lowerDirs.length === 0) throw new KilnError('overlay needs at least one lower dir', { kind: 'internal' });
  if (!o.upperDir && o.lowerDirs.length === 1) {
    // Overlay without an upper dir needs two lowers: a read-only bind does the same.
    await mount(o.lowerDirs[0]!, o.target, 'bind', 'bind,ro');
    return;
  }
  if (!o.volatile || !o.upperDir || volatileWorks === false) return mountWith(o, []);
  if (volatileWorks) return mountWith(o, ['volatile']);
  try {
    await mountWith(o, ['volatile']);
    volatileWorks = true;
  } catch {
    // An older kernel: the same mount without it (whose failure, if any, is the real one).
    await mountWith(o, []);
    volatileWorks = false;
  }
}

async function mountWith(o: OverlayOptions, extra: string[]): Promise<void> {
  const opts = (dirs: string[], upper?: string, work?: string) =>
    [`lowerdir=${dirs.join(':')}`, upper ? `upperdir=${upper}` : '', work ? `workdir=${work}` : '', o.readonly && upper ? 'ro' : '', ...extra]
      .filter(Boolean)
      .join(',');
  let options = opts(o.lowerDirs, o.upperDir, o.workDir);
  if (options.length <= PAGE_LIMIT) {
    await mount('overlay', o.target, 'overlay', options);
    return;
  }
  const all = [...o.lowerDirs, ...(o.upperDir ? [o.upperDir] : []), ...(o.workDir ? [o.workDir] : [])];
  const cwd = commonParent(all);
  const rel = (p: string) => relative(cwd, p);
  options = opts(o.lowerDirs.map(rel), o.upperDir && rel(o.upperDir), o.workDir && rel(o.workDir));
  if (options.length > PAGE_LIMIT) throw new KilnError(`too many layers to mount (${o.lowerDirs.length})`, { kind: 'runtime' });
  await mount('overlay', o.target, 'overlay', options, cwd);
}

/** Unmounts a path mounted by mountOverlay. Idempotent. */
export async function unmountPath(target: string): Promise<void> {
  await umount(target);
}

/**
 * Runs `fn` with a read-only view of `lowerDirs` (top first) mounted in a fresh dir
 * `parent/PID-view-*`; always unmounts and removes it. `parent` is the state dir's run dir,
 * so after a kill -9 the next kiln finds the mount by its dead pid and removes it.
 * No lower dirs: an empty directory.
 */
export async function withMountedView<T>(lowerDirs: string[], fn: (dir: string) => Promise<T>, parent: string): Promise<T> {
  const base = await makeTempDir(`${process.pid}-view-`, parent);
  const dir = join(base, 'v');
  await mkdir(dir);
  let mounted = false;
  try {
    if (lowerDirs.length) {
      await mountOverlay({ lowerDirs, target: dir, readonly: true });
      mounted = true;
    }
    return await fn(dir);
  } finally {
    if (mounted) await unmountPath(dir);
    await rmdir(dir);
    await rmdir(base);
  }
}
