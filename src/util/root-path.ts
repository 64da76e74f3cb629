/**
 * Paths inside a root directory (a layer being extracted, a container rootfs, a build
 * context, a mounted snapshot view), resolved as if the root were "/": symlinks, absolute
 * or relative, are followed inside the root, and ".." never climbs above it. This is
 * openat2(2)'s RESOLVE_IN_ROOT; the kernel does it where it can (src/platform/libc.ts),
 * an equivalent walk of lstat/readlink calls does it otherwise. Every caller that reads or
 * writes a path of a tree it did not make resolves it here first.
 *
 * Contract: the result is `root` itself or a path under it whose existing components are
 * all real directories (no symlink in it, but the last component when not followed);
 * components that do not exist are kept literally (".." after one of them is lexical).
 * It stays true as long as nothing else changes the tree meanwhile: kiln resolves in trees
 * that it alone writes (a fresh layer, a step's upper dir before the step starts, read-only
 * views), so a resolved path is not redirected between the check and its use.
 */
import { constants, lstatSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { libc, O_CLOEXEC, O_PATH, RESOLVE_IN_ROOT, RESOLVE_NO_MAGICLINKS, type Libc } from '../platform/libc.ts';
import { KilnError } from './errors.ts';

/** Linux's MAXSYMLINKS: the kernel gives up after 40 links in one resolution, and so does the walk. */
export const MAX_SYMLINKS = 40;

const ENOENT = 2;
const ENOTDIR = 20;
const ELOOP = 40;

/** Splits a slash path into components ('.' and '' dropped, '..' kept for the resolver). */
function components(p: string): string[] {
  return p.split('/').filter((c) => c !== '' && c !== '.');
}

function tooManyLinks(path: string): KilnError {
  return new KilnError(`too many levels of symbolic links resolving ${path}`, { kind: 'input' });
}

/** Whether openat2 answered here before (undefined: not tried yet). */
let kernelWorks: boolean | undefined;

/**
 * resolveInRoot: `path` (absolute or relative to the root) inside `root`; the last
 * component is followed only when `followLast`. Throws a KilnError (kind input) after 40
 * symlinks. Safe to call concurrently.
 */
export async function resolveInRoot(root: string, path: string, followLast = true): Promise<string> {
  if (kernelWorks !== false) {
    const c = await libc();
    if (c) {
      const r = resolveWithKernel(c, root, path, followLast);
      if (r !== undefined) return r;
    } else kernelWorks = false;
  }
  return resolveInRootWalk(root, path, followLast);
}

/**
 * The kernel's answer (openat2 with RESOLVE_IN_ROOT), or undefined when the kernel cannot
 * give one: no openat2, or a component is missing (the walk then says where it would be).
 */
export function resolveWithKernel(c: Pick<Libc, 'open' | 'openat2' | 'close'>, root: string, path: string, followLast: boolean): string | undefined {
  const rel = components(path).join('/') || '.';
  const rootFd = c.open(root, O_PATH | constants.O_DIRECTORY | O_CLOEXEC);
  if (rootFd < 0) {
    const code = -rootFd === ENOENT ? 'ENOENT' : -rootFd === ENOTDIR ? 'ENOTDIR' : `errno ${-rootFd}`;
    throw Object.assign(new Error(`${code}: cannot open ${root}`), { code });
  }
  try {
    const flags = O_PATH | O_CLOEXEC | (followLast ? 0 : constants.O_NOFOLLOW);
    const fd = c.openat2(rootFd, rel, flags, 0, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
    if (fd < 0) {
      if (-fd === ELOOP) throw tooManyLinks(path);
      if (-fd !== ENOENT && -fd !== ENOTDIR) kernelWorks = false; // ENOSYS, EPERM (seccomp), EINVAL: never ask again
      return undefined;
    }
    kernelWorks = true;
    try {
      const real = readlinkSync(`/proc/self/fd/${fd}`);
      const realRoot = readlinkSync(`/proc/self/fd/${rootFd}`);
      if (real === realRoot) return root;
      if (realRoot === '/') return join(root, real);
      if (!real.startsWith(`${realRoot}/`)) {
        throw new KilnError(`${path} resolved outside ${root} (${real})`, { kind: 'internal' });
      }
      return root + real.slice(realRoot.length);
    } finally {
      c.close(fd);
    }
  } finally {
    c.close(rootFd);
  }
}

/** The walk: what openat2(RESOLVE_IN_ROOT) does, with lstat and readlink per component. */
export function resolveInRootWalk(root: string, path: string, followLast = true): string {
  const stack: string[] = [];
  let todo = components(path);
  let links = 0;
  while (todo.length) {
    const c = todo.shift()!;
    if (c === '..') {
      stack.pop();
      continue;
    }
    const candidate = join(root, ...stack, c);
    const st = lstatOrUndefined(candidate);
    if (st?.isSymbolicLink() && (todo.length > 0 || followLast)) {
      if (++links > MAX_SYMLINKS) throw tooManyLinks(path);
      const target = readlinkSync(candidate);
      if (target.startsWith('/')) stack.length = 0;
      todo = [...components(target), ...todo];
      continue;
    }
    stack.push(c);
  }
  return join(root, ...stack);
}

/** lstat, or undefined when the path is missing (also under a non-directory). */
export function lstatOrUndefined(p: string) {
  try {
    return lstatSync(p);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
}

/** Cleans an absolute container path: `/a/./b/../c/` → `/a/c`. */
export function cleanPath(p: string): string {
  const out: string[] = [];
  for (const c of components(p)) {
    if (c === '..') out.pop();
    else out.push(c);
  }
  return `/${out.join('/')}`;
}
