/**
 * Running an incremental COPY (copy-reuse.ts plans it): as a delta on the previous result,
 * else from a hard-link clone of it, else (nothing to start from, or it could not be used)
 * undefined, and the caller copies in full.
 */
import type { FileCopy } from '../../llb/types.ts';
import { KilnError } from '../../util/errors.ts';
import { treeSignatures } from '../../source/context-index.ts';
import { withNewSnapshot } from './new-snapshot.ts';
import type { OpContext, Ref } from '../types.ts';
import type { CopyResult } from './copy-manifest.ts';
import { anyInLayers, hasOpaqueDir, manifestOf, MAX_GROUP, rememberCopyReuse, removeFromLayer, type CopyReusePlan } from './copy-reuse.ts';
import { resolveOwner } from './chown.ts';
import type { CloneRunner, CopyRunner } from './file.ts';

type LocalRef = Extract<Ref, { kind: 'local' }>;

/** The incremental copy's result, or undefined when the caller must copy in full. */
export async function runIncremental(ctx: OpContext, a: FileCopy, plan: CopyReusePlan, base: Ref | undefined, src: LocalRef, copy: CopyRunner, clone: CloneRunner): Promise<Ref | undefined> {
  if (plan.prev && plan.prev.dirs.length < MAX_GROUP) {
    try {
      return await runDeltaCopy(ctx, a, plan, base, src, copy);
    } catch (err) {
      if (ctx.signal?.aborted || !(err instanceof NeedsFullLayer)) throw err;
      // Not expressible as a delta: a clone of the previous layers below.
    }
  }
  try {
    return await runCloneCopy(ctx, a, plan, base, src, copy, clone);
  } catch (err) {
    if (ctx.signal?.aborted || !plan.prev) throw err;
    return undefined; // the previous result could not be used (e.g. removed meanwhile)
  }
}

/** The copy itself, with its manifest (into the new layer's manifest dir) and the context's tree signatures. */
async function copyWithManifest(ctx: OpContext, a: FileCopy, src: LocalRef, root: string, upperDir: string, prevManifest: string | undefined, copy: CopyRunner): Promise<CopyResult | undefined> {
  const owner = await resolveOwner(root, a.owner, (m) => ctx.log('stderr', `warning: ${m}\n`));
  const r = await copy(a, {
    srcRoot: src.dir,
    destRoot: root,
    owner,
    defaultOwner: { uid: 0, gid: 0 },
    excludePatterns: src.excludePatterns,
    reuse: { prevManifest, manifestOut: manifestOf(upperDir), trees: src.indexFile ? treeSignatures(src.indexFile, src.excludePatterns) : undefined },
  });
  return r ?? undefined;
}

/** A delta copy cannot express this change (copy-reuse.ts): clone instead. */
class NeedsFullLayer extends Error {}

/** How an incremental copy reports what it did (to the step's log). */
function logReuse(ctx: OpContext, r: CopyResult, removed: number, how: string): void {
  ctx.log('stderr', `incremental copy (${how}): ${r.reused} files unchanged since the previous run of this step, ${r.copied} copied, ${removed} removed\n`);
}

/** A COPY from a local context as a delta on its previous result (copy-reuse.ts). */
async function runDeltaCopy(ctx: OpContext, a: FileCopy, plan: CopyReusePlan, base: Ref | undefined, src: LocalRef, copy: CopyRunner): Promise<Ref> {
  const prev = plan.prev!;
  const baseDirs = base?.kind === 'snapshot' && base.id ? ctx.store.snapshots.layerDirs(base.id) : [];
  const out = await withNewSnapshot(
    ctx.store,
    { kind: 'snapshot', id: prev.id },
    async ({ root, upperDir }) => {
      const r = await copyWithManifest(ctx, a, src, root, upperDir, prev.manifest, copy);
      if (!r) throw new NeedsFullLayer('no copy result');
      // A whiteout would hide the base's entry too, where a full copy leaves it.
      if (await anyInLayers(baseDirs, r.removed)) throw new NeedsFullLayer('a removed path is in the base');
      await removeFromLayer(root, r.removed);
      logReuse(ctx, r, r.removed.length, 'delta');
    },
    {
      joinsParent: true,
      afterUnmount: async (upperDir) => {
        if (await hasOpaqueDir(upperDir)) throw new NeedsFullLayer('an entry became a directory');
      },
    },
  );
  if (out.kind === 'snapshot' && out.id) rememberCopyReuse(ctx.store, plan, out.id);
  return out;
}

/** A COPY from a local context that starts from a hard-link clone of its previous result, or records its first run (copy-reuse.ts). */
async function runCloneCopy(ctx: OpContext, a: FileCopy, plan: CopyReusePlan, base: Ref | undefined, src: LocalRef, copy: CopyRunner, clone: CloneRunner): Promise<Ref> {
  let removed: string[] = [];
  let bytes: number | undefined;
  const out = await withNewSnapshot(
    ctx.store,
    base,
    async ({ root, upperDir }) => {
      const r = await copyWithManifest(ctx, a, src, root, upperDir, plan.prev?.manifest, copy);
      removed = r?.removed ?? [];
      bytes = r ? r.bytes : undefined;
      if (r && plan.prev) logReuse(ctx, r, removed.length, 'clone');
    },
    {
      beforeMount: plan.prev
        ? async (upperDir) => {
            if (!(await clone(plan.prev!.dirs, upperDir))) throw new KilnError('cannot clone the previous layer here', { kind: 'internal' });
          }
        : undefined,
      afterUnmount: (upperDir) => removeFromLayer(upperDir, removed),
    },
  );
  if (out.kind === 'snapshot' && out.id) {
    rememberCopyReuse(ctx.store, plan, out.id);
    // Known now: GC need not walk this layer to size it.
    if (bytes !== undefined) ctx.store.snapshots.setSize(out.id, bytes);
  }
  return out;
}
