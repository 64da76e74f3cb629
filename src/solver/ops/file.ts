import { mkdir, writeFile, rm, symlink, chown, chmod, lutimes, lstat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { FileAction, FileCopy, FileOp } from '../../llb/types.ts';
import { KilnError } from '../../util/errors.ts';
import { withMountedView } from '../../snapshot/overlay.ts';
import { withNewSnapshot } from './new-snapshot.ts';
import type { OpContext, OpResolver, Ref } from '../types.ts';
import { copyFiles, type CopyFilesOptions } from './file-copy.ts';
import type { CopyResult } from './copy-manifest.ts';
import { planCopyReuse } from './copy-reuse.ts';
import { runIncremental } from './copy-incremental.ts';
import { cloneLayer } from '../../snapshot/clone-layer.ts';
import { resolveOwner } from './chown.ts';
import { resolveInRoot, cleanPath } from '../../util/root-path.ts';
import { hasWildcards, matchPattern } from '../../util/glob.ts';

/** Runs one copy (file reads and writes, archive extraction): by default here, else on a worker thread. */
export type CopyRunner = (a: FileCopy, o: CopyFilesOptions) => Promise<CopyResult | undefined | void>;
/** Clones a layer directory with hard links (clone-layer.ts): here by default, else on a worker. */
export type CloneRunner = (from: string | string[], to: string) => Promise<boolean>;

/**
 * File ops (COPY, ADD, WORKDIR's mkdir, ...): the actions run on an overlay of the base
 * input with a fresh upper dir, which becomes the new snapshot. Mounts stay on this
 * thread; the copying itself goes to `copy` (the composition root passes the worker pool).
 */
export function createFileOp(copy: CopyRunner = copyFiles, clone: CloneRunner = cloneLayer): OpResolver {
  return function fileOp(ctx: OpContext) {
    const body = ctx.op.op as FileOp;
    return {
      inputSelectors: () => selectorsOf(body),
      exec: (inputs: Ref[]) => runFile(ctx, body, inputs, copy, clone),
    };
  };
}

/** The paths each input is read at: copy sources only; an input used as a base is read whole. */
function selectorsOf(body: FileOp): Record<number, string[]> {
  const out: Record<number, string[]> = {};
  const whole = new Set(body.actions.map((a) => a.input));
  for (const a of body.actions) {
    if (a.action.type !== 'copy' || a.secondaryInput < 0 || whole.has(a.secondaryInput)) continue;
    if (a.action.includePatterns?.length || a.action.excludePatterns?.length) {
      whole.add(a.secondaryInput);
      continue;
    }
    (out[a.secondaryInput] ??= []).push(a.action.src);
  }
  for (const i of whole) delete out[i];
  return out;
}

async function runFile(ctx: OpContext, body: FileOp, inputs: Ref[], copy: CopyRunner, clone: CloneRunner): Promise<Ref[]> {
  const { store } = ctx;
  const first = body.actions[0];
  if (!first) throw new KilnError('file op without actions', { kind: 'internal' });
  body.actions.forEach((a, i) => {
    if (i > 0 && a.input !== inputs.length + i - 1) throw new KilnError('file op: branching action chains are not supported yet', { kind: 'internal' });
  });
  const base = first.input >= 0 ? inputs[first.input] : undefined;
  const src = first.secondaryInput >= 0 ? inputs[first.secondaryInput] : undefined;
  const plan = await planCopyReuse(store, body.actions, base, src);
  if (plan && src?.kind === 'local') {
    const out = await runIncremental(ctx, first.action as FileCopy, plan, base, src, copy, clone);
    if (out) return [out];
  }
  const out = await withNewSnapshot(store, base, async ({ root }) => {
    for (const a of body.actions) await applyAction(ctx, a, inputs, root, copy);
  });
  return [out];
}

async function applyAction(ctx: OpContext, fa: FileAction, inputs: Ref[], root: string, copy: CopyRunner): Promise<void> {
  const a = fa.action;
  switch (a.type) {
    case 'copy': {
      const owner = await resolveOwner(root, a.owner, (m) => ctx.log('stderr', `warning: ${m}\n`));
      const src = fa.secondaryInput >= 0 ? inputs[fa.secondaryInput] : undefined;
      if (src?.kind === 'local') {
        await copy(a, { srcRoot: src.dir, destRoot: root, owner, defaultOwner: { uid: 0, gid: 0 }, excludePatterns: src.excludePatterns });
        return;
      }
      const lowers = src?.id ? ctx.store.snapshots.layerDirs(src.id) : [];
      await withMountedView(lowers, (srcRoot: string) => copy(a, { srcRoot, destRoot: root, owner }), ctx.store.layout.run);
      return;
    }
    case 'mkdir': {
      const owner = await resolveOwner(root, a.owner, (m) => ctx.log('stderr', `warning: ${m}\n`));
      const target = await resolveInRoot(root, a.path);
      const existing = await lstat(target).catch(() => undefined);
      if (existing?.isDirectory()) return;
      if (existing) throw new KilnError(`mkdir ${a.path}: file exists`, { kind: 'build' });
      if (!a.makeParents && !(await lstat(dirname(target)).catch(() => undefined))) {
        throw new KilnError(`mkdir ${a.path}: parent directory does not exist`, { kind: 'build' });
      }
      await mkdirChain(root, target, a.mode, owner, a.timestamp);
      return;
    }
    case 'mkfile': {
      const owner = await resolveOwner(root, a.owner, (m) => ctx.log('stderr', `warning: ${m}\n`));
      const target = await resolveInRoot(root, a.path);
      await writeFile(target, Buffer.from(a.data, 'base64'));
      await chmod(target, a.mode);
      if (owner) await chown(target, owner.uid, owner.gid);
      if (a.timestamp !== undefined) await lutimes(target, a.timestamp, a.timestamp);
      return;
    }
    case 'rm': {
      const paths = a.allowWildcard && hasWildcards(a.path) ? await globIn(root, a.path) : [await resolveInRoot(root, a.path, false)];
      for (const p of paths) {
        if (!a.allowNotFound && !(await lstat(p).catch(() => undefined))) throw new KilnError(`rm ${a.path}: no such file or directory`, { kind: 'build' });
        await rm(p, { recursive: true, force: true });
      }
      return;
    }
    case 'symlink': {
      const target = await resolveInRoot(root, a.newpath, false);
      await symlink(a.oldpath, target);
      return;
    }
  }
}

async function mkdirChain(root: string, target: string, mode: number, owner: { uid: number; gid: number } | undefined, ts?: number): Promise<void> {
  if (target === root || (await lstat(target).catch(() => undefined))) return;
  await mkdirChain(root, dirname(target), mode, owner, ts);
  await mkdir(target);
  await chmod(target, mode);
  if (owner) await chown(target, owner.uid, owner.gid);
  if (ts !== undefined) await lutimes(target, ts, ts);
}

async function globIn(root: string, pattern: string): Promise<string[]> {
  const clean = cleanPath(pattern);
  const dir = await resolveInRoot(root, dirname(clean));
  const { readdir } = await import('node:fs/promises');
  const base = clean.slice(clean.lastIndexOf('/') + 1);
  return (await readdir(dir).catch(() => [] as string[])).filter((n) => matchPattern(base, n)).map((n) => join(dir, n));
}
