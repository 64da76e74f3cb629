/**
 * Incremental COPY from a local context. A COPY that ran before with the same action, the same
 * base snapshot and the same context directory (only the context's contents differ, which is
 * why its cache key missed) starts from the previous result: that layer is cloned with hard
 * links (clone-layer.ts), the copy then rewrites only the entries whose source changed (by the
 * stat key recorded in the previous layer's `copy.json`), and what the source no longer has is
 * removed from the new layer. The result is the layer a full copy would make; editing one file
 * of a big context costs a clone of links instead of a copy of every byte.
 *
 * Used only where that equivalence is simple to keep: one copy action from a local context, a
 * single source path without wildcards, no --exclude/--parents patterns, no archive unpacking,
 * no `!` re-includes in .dockerignore, and a runtime that can copy extended attributes.
 */
import { createHash } from 'node:crypto';
import { lstat, rm, utimes } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { FileAction } from '../../llb/types.ts';
import type { Store } from '../../store/index.ts';
import { canCopyXattrs } from '../../platform/linux-fs.ts';
import { hasWildcards } from '../../util/glob.ts';
import type { Ref } from '../types.ts';

/** The manifest file beside a layer directory (`snapshots/ID/fs` → `snapshots/ID/copy.json`). */
export const manifestOf = (layerDir: string) => join(dirname(layerDir), 'copy.json');

export interface CopyReusePlan {
  key: string;
  /** The previous result to start from, when there is one. */
  prev?: { layer: string; manifest: string };
}

/** Whether this file op is a copy the incremental path may take, and from what. */
export async function planCopyReuse(store: Store, actions: FileAction[], base: Ref | undefined, src: Ref | undefined): Promise<CopyReusePlan | undefined> {
  const fa = actions[0];
  if (actions.length !== 1 || !fa || fa.action.type !== 'copy' || src?.kind !== 'local') return undefined;
  const a = fa.action;
  if (hasWildcards(a.src) || a.includePatterns?.length || a.excludePatterns?.length || a.attemptUnpack) return undefined;
  if (src.excludePatterns?.some((p) => p.trim().startsWith('!'))) return undefined;
  if (base && base.kind !== 'snapshot') return undefined;
  if (!(await canCopyXattrs())) return undefined;
  const key = createHash('sha256')
    .update(JSON.stringify({ a, base: base?.id ?? null, dir: src.dir, excludes: src.excludePatterns ?? [] }))
    .digest('hex');
  const last = store.meta.get(`copy-reuse:${key}`);
  const rec = last ? store.snapshots.get(last) : undefined;
  if (!rec) return { key };
  const layer = store.snapshots.layerDir(rec);
  const manifest = manifestOf(layer);
  if (!(await lstat(manifest).catch(() => undefined))) return { key };
  return { key, prev: { layer, manifest } };
}

/** Records `snapshotId` as the result the next run of this copy starts from. */
export function rememberCopyReuse(store: Store, plan: CopyReusePlan, snapshotId: string): void {
  store.meta.set(`copy-reuse:${plan.key}`, snapshotId);
}

/**
 * Removes entries (paths relative to the layer) from an unmounted layer directory, keeping the
 * times of their parent directories as the copy left them.
 */
export async function removeFromLayer(layer: string, removed: string[]): Promise<void> {
  const sorted = [...removed].sort();
  let last: string | undefined;
  for (const rel of sorted) {
    if (last !== undefined && rel.startsWith(`${last}/`)) continue; // inside a directory already gone
    last = rel;
    const parent = dirname(join(layer, rel));
    const pst = await lstat(parent).catch(() => undefined);
    await rm(join(layer, rel), { recursive: true, force: true });
    if (pst) await utimes(parent, pst.atime, pst.mtime);
  }
}
