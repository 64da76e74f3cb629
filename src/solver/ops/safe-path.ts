import { lstat, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { KilnError } from '../../util/errors.ts';

const MAX_LINKS = 255;

/** Splits a slash path into clean components ('.' and '' dropped, '..' kept for the resolver). */
function components(p: string): string[] {
  return p.split('/').filter((c) => c !== '' && c !== '.');
}

/**
 * Resolves `path` (absolute or relative to the root) inside `root` the way a chroot would:
 * `..` never climbs above the root and symlinks (absolute or relative) are resolved
 * relative to the root, so the result is always inside it. The last component is followed
 * only when `followLast`. Missing components are fine: the result names where they would be.
 */
export async function resolveInRoot(root: string, path: string, followLast = true): Promise<string> {
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
    const isLast = todo.length === 0;
    let st;
    try {
      st = await lstat(candidate);
    } catch {
      stack.push(c);
      continue;
    }
    if (st.isSymbolicLink() && (!isLast || followLast)) {
      if (++links > MAX_LINKS) throw new KilnError(`too many levels of symbolic links resolving ${path}`, { kind: 'input' });
      const target = await readlink(candidate);
      if (target.startsWith('/')) stack.length = 0;
      todo = [...components(target), ...todo];
      continue;
    }
    stack.push(c);
  }
  return join(root, ...stack);
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
