/**
 * resolveInRoot's contract, run against both implementations: the kernel's (openat2 with
 * RESOLVE_IN_ROOT, through FFI) and the walk that stands in where the kernel or FFI lacks it.
 * Same tree, same answers; no answer ever leaves the root.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { resolveInRootWalk, resolveWithKernel } from '../../src/util/root-path.ts';
import { libc } from '../../src/platform/libc.ts';
import { makeTempDir, removeAll } from '../../src/util/fs.ts';

let root: string;
beforeAll(async () => {
  root = await makeTempDir('kiln-rootpath-');
  await mkdir(join(root, 'etc/sub'), { recursive: true });
  await writeFile(join(root, 'etc/shadow'), 'inside');
  await symlink('/etc', join(root, 'abs')); // absolute: means the root's /etc
  await symlink('../../../../../../etc', join(root, 'climb'));
  await symlink('abs/shadow', join(root, 'file-link'));
  await symlink('loop', join(root, 'loop'));
  await symlink('/', join(root, 'top'));
  await symlink('sub/../..', join(root, 'etc/up'));
  await symlink('/proc/self/root', join(root, 'magic'));
});
afterAll(async () => {
  await removeAll(root);
});

const cases: [string, boolean, string][] = [
  ['abs/shadow', true, 'etc/shadow'],
  ['climb/shadow', true, 'etc/shadow'],
  ['file-link', true, 'etc/shadow'],
  ['file-link', false, 'file-link'],
  ['abs', false, 'abs'],
  ['/../../..', true, ''],
  ['top/top/etc', true, 'etc'],
  ['etc/up/etc/shadow', true, 'etc/shadow'],
  ['abs/missing/../shadow', true, 'etc/shadow'],
  ['nope/deeper', true, 'nope/deeper'],
  ['etc/shadow/under-a-file', true, 'etc/shadow/under-a-file'],
  ['magic/etc', true, 'proc/self/root/etc'],
];

const implementations: [string, () => Promise<((root: string, path: string, follow: boolean) => string | undefined) | undefined>][] = [
  ['walk', async () => resolveInRootWalk],
  [
    'kernel (openat2)',
    async () => {
      const c = await libc();
      return c ? (r, p, f) => resolveWithKernel(c, r, p, f) : undefined;
    },
  ],
];

for (const [name, get] of implementations) {
  describe(`resolveInRoot: ${name}`, () => {
    for (const [path, follow, want] of cases) {
      test(`${path}${follow ? '' : ' (last not followed)'}`, async () => {
        const fn = await get();
        if (!fn) return; // no FFI in this runtime: the walk is what runs
        const got = fn(root, path, follow);
        // The kernel gives no answer for a missing component (the walk then does).
        if (got === undefined && name !== 'walk') return;
        expect(got).toBe(want ? join(root, want) : root);
      });
    }
    test('a symlink loop is a clear error', async () => {
      const fn = await get();
      if (!fn) return;
      expect(() => fn(root, 'loop/x', true)).toThrow(/too many levels of symbolic links/);
    });
  });
}
