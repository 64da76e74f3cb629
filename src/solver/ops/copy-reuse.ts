/**
 * Incremental COPY from a local context. A COPY that ran before with the same action, the same
 * base snapshot and the same context directory (only the context's contents differ, which is
 * why its cache key missed) starts from the previous result, in one of two ways:
 * - delta (the usual way): the new layer is a delta on the previous result's layer: the copy
 *   runs on an overlay of the previous result and writes only the entries whose source
 *   changed (by the stat key recorded in the previous layer's manifest; whole unchanged
 *   directories are skipped by the context index's tree signatures), and removes what the
 *   source no longer has. The new snapshot joins its parent: both export as one image layer,
 *   the same bytes a full copy makes (merged-layers.ts).
 * - clone: when a delta cannot say it (a removed path the base also has, an entry whose type
 *   changed into a directory) or the group has MAX_GROUP layers, the previous result's layers
 *   are cloned with hard links into one new layer (clone-layer.ts) and the copy rewrites only
 *   what changed there.
 *
 * Used only where the equivalence with a full copy is simple to keep: one copy action from a
 * local context, a single source path without wildcards, no --exclude/--parents patterns, no
 * archive unpacking, no `!` re-includes in .dockerignore, and a runtime that can copy
 * extended attributes.
 */
import { createHash } from 'node:crypto';
import { lstat, rm, utimes } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { FileAction } from '../../llb/types.ts';
import type { Store } from '../../store/index.ts';
import { readdirSync } from 'node:fs';
import { canCopyXattrs, xattrReader } from '../../platform/linux-fs.ts';
import { hasWildcards } from '../../util/glob.ts';
import type { Ref } from '../types.ts';

/** The manifest directory beside a layer directory (`snapshots/ID/fs` → `snapshots/ID/copy-manifest`: copy-manifest.ts). */
export const manifestOf = (layerDir: string) => join(dirname(layerDir), 'copy-manifest');

/** Layers one image layer may have (the previous result and its deltas) before a clone squashes them. */
export const MAX_GROUP = 16;

export interface CopyReusePlan {
  key: string;
  /** The previous result to start from, when there is one: its snapshot, its group's layer dirs (top first) and its manifest. */
  prev?: { id: string; dirs: string[]; manifest: string };
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
  const manifest = manifestOf(store.snapshots.layerDir(rec));
  if (!(await lstat(manifest).catch(() => undefined))) return { key };
  return { key, prev: { id: rec.id, dirs: store.snapshots.groupDirs(rec), manifest } };
}

/** Whether any of `layerDirs` holds one of `paths` (layer-relative): a delta's whiteout there would hide it too. */
export async function anyInLayers(layerDirs: string[], paths: string[]): Promise<boolean> {
  for (const rel of paths) {
    for (const d of layerDirs) if (await lstat(join(d, rel)).catch(() => undefined)) return true;
  }
  return false;
}

/** Whether a layer directory has an opaque directory (overlay made one where a non-directory became a directory). */
export async function hasOpaqueDir(layer: string): Promise<boolean> {
  const read = await xattrReader();
  if (!read) return true;
  const walk = (dir: string): boolean => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (!e.isDirectory()) continue;
      const abs = join(dir, e.name);
      if (Buffer.from(read(abs, 'trusted.overlay.opaque') ?? []).toString() === 'y' || walk(abs)) return true;
    }
    return false;
  };
  return walk(layer);
}

/** Records `snapshotId` as the result the next run of this copy starts from. */
export function rememberCopyReuse(store: Store, plan: CopyReusePlan, snapshotId: string): void {
  store.meta.set(`copy-reuse:${plan.key}`, snapshotId);
}

/**
 * Removes entries (paths relative to the layer) from a layer directory or a mounted root,
 * keeping the times of their parent directories as the copy left them.
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
