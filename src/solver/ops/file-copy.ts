import { link, lstat, mkdir, readdir, chown, chmod, lutimes, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import { chmodSync, copyFileSync, lchownSync, lstatSync, lutimesSync, readdirSync, readlinkSync, symlinkSync, type Stats } from 'node:fs';
import type { FileCopy } from '../../llb/types.ts';
import { KilnError } from '../../util/errors.ts';
import { resolveInRoot, cleanPath } from '../../util/root-path.ts';
import { hasWildcards, matchPattern } from '../../util/glob.ts';
import type { Ids } from './chown.ts';
import { extractArchive, isArchive } from './file-unpack.ts';
import { applyModeSpec, parseModeSpec } from '../../util/file-mode.ts';
import { createPatternMatcher, ignoreRules } from '../../util/patternmatcher.ts';
import { finishCopyReuse, openCopyReuse, recordDir, reusable, unchangedDir, type CopyResult, type CopyReuse, type ReuseState } from './copy-manifest.ts';

export interface CopyContext {
  /** Source paths (relative to srcRoot) that are not there, e.g. .dockerignore'd context files. */
  excluded?: (rel: string, isDir: boolean) => boolean;
  /**
   * A directory that is itself excluded but walked because a `!` pattern may re-include
   * something in it: it exists in the copy only when something inside it is copied.
   */
  walkOnly?: (rel: string) => boolean;
  /** Hard links inside one source tree stay hard links: source dev:ino → the first target, once copied. */
  links?: Map<string, Promise<string>>;
  /** Set by copyAction from includePatterns (COPY --parents): what to copy of a tree. */
  include?: (rel: string, isDir: boolean) => 'all' | 'walk' | 'skip';
  /** Set by copyAction: whether to leave out `abs` (copying the source rooted at `base`). */
  skip?: (abs: string, base: string, isDir: boolean) => boolean;
  /** Root of the source file system (a context dir or a mounted snapshot view). */
  srcRoot: string;
  /** Root of the destination file system (the mounted overlay). */
  destRoot: string;
  /** Working dir of the destination, for relative dest paths (already applied by frontends). */
  owner?: Ids;
  /** Owner for files whose owner is not set explicitly (local context files become root's). */
  defaultOwner?: Ids;
  /** Incremental copy bookkeeping (see CopyReuse); absent for a plain copy. */
  reuse?: ReuseState;
}

/** What a copy needs, as plain values (it may run on a worker thread): see copyFiles. */
export interface CopyFilesOptions {
  srcRoot: string;
  destRoot: string;
  owner?: Ids;
  defaultOwner?: Ids;
  /** The source's .dockerignore patterns (a local context). */
  excludePatterns?: string[];
  reuse?: CopyReuse;
}

/** copyAction from plain values: the worker-thread task behind COPY and ADD. */
export async function copyFiles(a: FileCopy, o: CopyFilesOptions): Promise<CopyResult | undefined> {
  const rules = o.excludePatterns?.length ? ignoreRules(o.excludePatterns) : undefined;
  const reuse = o.reuse ? await openCopyReuse(o.reuse) : undefined;
  await copyAction(a, {
    srcRoot: o.srcRoot,
    destRoot: o.destRoot,
    owner: o.owner,
    defaultOwner: o.defaultOwner,
    excluded: rules?.skip,
    walkOnly: rules?.walkOnly,
    reuse,
  });
  return o.reuse && reuse ? finishCopyReuse(reuse, o.reuse.manifestOut) : undefined;
}

/**
 * One COPY action, with BuildKit's rules: wildcard sources (Go path.Match per component),
 * a directory source copies its contents (dirCopyContents), a dest ending in '/' or an
 * existing directory receives files under their base names, otherwise the dest is the new
 * path. Nothing is ever read or written outside the two roots.
 */
export async function copyAction(a: FileCopy, ctx: CopyContext): Promise<void> {
  const hidden = ctx.excluded ?? (() => false);
  const sources = (await expandSources(ctx.srcRoot, a)).filter((s) => !hidden(s.rel.replace(/^\/+/, ''), false));
  // COPY --exclude: matched on paths inside each source (a file source by its own name).
  const userExcl = a.excludePatterns?.length ? createPatternMatcher(a.excludePatterns) : undefined;
  ctx = {
    ...ctx,
    skip: (abs: string, base: string, isDir: boolean) => {
      if (hidden(relative(ctx.srcRoot, abs), isDir)) return true;
      // A `!` pattern may re-include something inside an excluded directory: walk it.
      if (!userExcl || (isDir && userExcl.exclusions)) return false;
      return userExcl.matchesOrParentMatches(relative(base, abs) || basename(abs));
    },
  };
  if (a.includePatterns?.length) ctx.include = includeChecker(a.includePatterns);
  if (sources.length === 0) {
    if (a.allowEmptyWildcard && hasWildcards(a.src)) return;
    throw new KilnError(`failed to compute cache key: "${cleanPath(a.src)}" not found`, { kind: 'build' });
  }
  const destPath = cleanPath(a.dest);
  const destIsDir = a.dest.endsWith('/') || sources.length > 1 || hasWildcards(a.src);
  for (const src of sources) {
    ctx = { ...ctx, links: new Map() }; // like fsutil: one copier, one inode map, per source
    const st = await lstat(src.abs);
    const srcAbs = st.isSymbolicLink() && a.followSymlink ? await resolveInRoot(ctx.srcRoot, src.rel, true) : src.abs;
    const s = srcAbs === src.abs ? st : await lstat(srcAbs).catch(() => undefined);
    if (!s) {
      // A source symlink is followed inside the source root; its target must be there (BuildKit's words).
      throw new KilnError(`failed to compute cache key: "/${relative(ctx.srcRoot, srcAbs)}" not found`, { kind: 'build' });
    }
    if (s.isDirectory() && a.dirCopyContents) {
      // Like BuildKit (and docker before it), a directory's contents land in dest, also for wildcard matches.
      // The dest dir is made like its missing parents (0755 or the --chmod mode, the --chown
      // owner); an existing one keeps its metadata: the source dir's own is not copied.
      const target = await resolveInRoot(ctx.destRoot, destPath);
      await ensureDirChain(ctx.destRoot, target, a, ctx, createdDirMode(a));
      await copyTree(srcAbs, target, a, ctx, s, srcAbs, true);
      continue;
    }
    const archive = a.attemptUnpack && s.isFile() ? await isArchive(srcAbs) : undefined;
    if (archive) {
      // ADD of a local archive: extracted into the destination directory.
      const dir = await resolveInRoot(ctx.destRoot, destPath);
      await ensureDirChain(ctx.destRoot, dir, a, ctx);
      await extractArchive(srcAbs, archive, ctx.destRoot, destPath, ctx.owner);
      continue;
    }
    let target = await resolveInRoot(ctx.destRoot, destPath);
    const existing = await stat(target).catch(() => undefined);
    if (destIsDir || existing?.isDirectory()) {
      await ensureDirChain(ctx.destRoot, target, a, ctx, createdDirMode(a));
      target = await resolveInRoot(ctx.destRoot, join(destPath, basename(src.rel)), false);
    } else if (a.createDestPath) {
      await ensureDirChain(ctx.destRoot, dirname(target), a, ctx, createdDirMode(a));
    }
    await copyEntry(srcAbs, target, a, ctx, s);
  }
}

async function expandSources(root: string, a: FileCopy): Promise<{ rel: string; abs: string }[]> {
  const rel = cleanPath(a.src);
  if (!a.allowWildcard || !hasWildcards(rel)) {
    const abs = await resolveInRoot(root, rel, false);
    try {
      await lstat(abs);
      return [{ rel, abs }];
    } catch {
      return [];
    }
  }
  // Walk component by component, matching wildcard components against directory listings.
  let cur: { rel: string; abs: string }[] = [{ rel: '/', abs: root }];
  for (const comp of rel.split('/').filter(Boolean)) {
    const next: typeof cur = [];
    for (const c of cur) {
      if (!hasWildcards(comp)) {
        const r = join(c.rel, comp);
        const abs = await resolveInRoot(root, r, false);
        if (await lstat(abs).catch(() => undefined)) next.push({ rel: r, abs });
        continue;
      }
      const dir = await resolveInRoot(root, c.rel, true);
      const names = await readdir(dir).catch(() => [] as string[]);
      for (const n of names.sort()) {
        if (matchPattern(comp, n)) next.push({ rel: join(c.rel, n), abs: join(dir, n) });
      }
    }
    cur = next;
  }
  return cur;
}

/**
 * The mode of directories a copy creates on the way to its dest: the octal --chmod when
 * given (current BuildKit, since fsutil#228 for moby/buildkit#4945), else 0755.
 */
function createdDirMode(a: FileCopy): number {
  return !a.modeStr && a.mode !== undefined && a.mode >= 0 ? a.mode & 0o7777 : 0o755;
}

/** Creates `target` and its missing parents with `mode` and the copy's owner (fsutil MkdirAll). */
async function ensureDirChain(root: string, target: string, a: FileCopy, ctx: CopyContext, mode = 0o755): Promise<void> {
  if (target === root || (await stat(target).catch(() => undefined))?.isDirectory()) return;
  await ensureDirChain(root, dirname(target), a, ctx, mode);
  await mkdir(target);
  await chmod(target, mode);
  const o = ctx.owner;
  if (o) await chown(target, o.uid, o.gid);
  if (a.timestamp !== undefined) await lutimes(target, a.timestamp, a.timestamp);
}

/**
 * Owner, mode and times of a copied entry. Synchronous, like the per-file work of copyOne:
 * copies run on a worker thread, where a syscall per call beats a promise per call (a tree
 * of 20,000 files copies ~3x faster).
 */
async function applyMeta(target: string, st: Stats, a: FileCopy, ctx: CopyContext, created: boolean): Promise<void> {
  const o = ctx.owner ?? ctx.defaultOwner ?? { uid: st.uid, gid: st.gid };
  // What this (root) process just created is root's already: chown only to someone else.
  if (!created || o.uid !== 0 || o.gid !== 0 || process.getuid?.() !== 0) lchownSync(target, o.uid, o.gid);
  if (!st.isSymbolicLink()) {
    const mode = a.modeStr
      ? applyModeSpec(parseModeSpec(a.modeStr), st.mode, st.isDirectory())
      : a.mode !== undefined && a.mode >= 0
        ? a.mode
        : st.mode & 0o7777;
    chmodSync(target, mode);
  }
  const t = a.timestamp !== undefined ? new Date(a.timestamp * 1000) : st.mtime;
  lutimesSync(target, t, t);
}

/** `fresh`: the target's directory was just made by this copy, so nothing is there yet. */
async function copyEntry(src: string, target: string, a: FileCopy, ctx: CopyContext, st: Stats, fresh = false): Promise<void> {
  // Incremental: a file the previous copy left as the source still is needs nothing.
  if (ctx.reuse && !st.isDirectory() && reusable(ctx.reuse, relative(ctx.srcRoot, src), relative(ctx.destRoot, target), st)) return;
  const existing = fresh ? undefined : lstatSync(target, { throwIfNoEntry: false });
  if (st.isDirectory()) {
    if (existing && !existing.isDirectory()) await rm(target, { recursive: true, force: true });
    if (!existing || !existing.isDirectory()) await mkdir(target);
    await copyTree(src, target, a, ctx, st);
    return;
  }
  if (existing) await rm(target, { recursive: true, force: true });
  if (st.isFile() && st.nlink > 1 && ctx.links) {
    // The first of a link group copies; the others link to it.
    const id = `${st.dev}:${st.ino}`;
    const first = ctx.links.get(id);
    if (first) {
      await link(await first, target);
      return;
    }
    const done = copyOne(src, target, a, ctx, st).then(() => target);
    ctx.links.set(id, done);
    await done;
    return;
  }
  await copyOne(src, target, a, ctx, st);
}

async function copyOne(src: string, target: string, a: FileCopy, ctx: CopyContext, st: Stats): Promise<void> {
  if (st.isSymbolicLink()) symlinkSync(readlinkSync(src), target);
  else if (st.isFile()) copyFileSync(src, target);
  else throw new KilnError(`cannot copy ${basename(src)}: not a regular file, directory or symlink`, { kind: 'input' });
  await applyMeta(target, st, a, ctx, true);
}


/**
 * Include patterns (COPY --parents): a path matching one, or under one, is copied whole;
 * a directory that could lead to a match is walked; anything else is left out.
 */
function includeChecker(patterns: string[]): (rel: string, isDir: boolean) => 'all' | 'walk' | 'skip' {
  const m = createPatternMatcher(patterns);
  const parts = patterns.map((p) => p.split('/').filter(Boolean));
  return (rel, isDir) => {
    if (m.matchesOrParentMatches(rel)) return 'all';
    if (!isDir) return 'skip';
    const comps = rel.split('/');
    const leads = parts.some((pp) => {
      for (let i = 0; i < comps.length; i++) {
        const pc = pp[i];
        if (pc === undefined) return false;
        if (pc === '**') return true;
        if (!matchPattern(pc, comps[i]!)) return false;
      }
      return true;
    });
    return leads ? 'walk' : 'skip';
  };
}

/**
 * Copies the contents of directory `src` into existing-or-new directory `target`, then its
 * metadata. Returns whether anything was copied. `top`: the dest of a dir-contents copy,
 * whose metadata stays as made (fsutil copies dir metadata only onto dirs it creates
 * below the dest, or overwrites there).
 */
async function copyTree(src: string, target: string, a: FileCopy, ctx: CopyContext, st: Stats, base = src, top = false): Promise<boolean> {
  if (ctx.reuse && unchangedDir(ctx.reuse, relative(ctx.srcRoot, src), relative(ctx.destRoot, target))) return true;
  const there = await lstat(target).catch(() => undefined);
  // Never a copy into a symlink (or a file) the destination holds: it is replaced by the directory.
  if (there && !there.isDirectory()) await rm(target, { recursive: true, force: true });
  const created = !there?.isDirectory();
  if (ctx.reuse) recordDir(ctx.reuse, relative(ctx.srcRoot, src), relative(ctx.destRoot, target));
  const walkOnly = !top && (ctx.walkOnly?.(relative(ctx.srcRoot, src)) ?? false);
  if (created) await mkdir(target);
  let copied = false;
  const files: { child: string; name: string; cst: Stats }[] = [];
  for (const name of readdirSync(src).sort()) {
    const child = join(src, name);
    const cst = lstatSync(child, { throwIfNoEntry: false });
    if (!cst) continue; // listed but not there (a whiteout overlay shows in a directory it does not merge)
    if (ctx.skip?.(child, base, cst.isDirectory())) continue;
    const inc = ctx.include?.(relative(base, child), cst.isDirectory());
    if (inc === 'skip') continue;
    if (inc === 'walk') {
      copied = (await copyTree(child, join(target, name), a, ctx, cst, base)) || copied;
      continue;
    }
    if (inc === 'all') {
      const sub = { ...ctx, include: undefined };
      if (cst.isDirectory()) copied = (await copyTree(child, join(target, name), a, sub, cst, base)) || copied;
      else await copyEntry(child, join(target, name), a, sub, cst);
      if (!cst.isDirectory()) copied = true;
      continue;
    }
    if (cst.isDirectory()) {
      if (ctx.reuse && unchangedDir(ctx.reuse, relative(ctx.srcRoot, child), relative(ctx.destRoot, join(target, name)))) {
        copied = true;
        continue;
      }
      copied = (await copyTree(child, join(target, name), a, ctx, cst, base)) || copied;
    } else files.push({ child, name, cst });
  }
  for (const f of files) await copyEntry(f.child, join(target, f.name), a, ctx, f.cst, created);
  if (files.length) copied = true;
  // Directories walked only to reach included paths are not kept when nothing was included.
  if ((ctx.include || walkOnly) && !copied) {
    if (created) await rm(target, { recursive: true, force: true });
    return false;
  }
  if (!top) await applyMeta(target, st, a, ctx, created);
  return true;
}
