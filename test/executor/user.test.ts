import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { resolveUser } from '../../src/executor/index.ts';
import { KilnError } from '../../src/util/errors.ts';
import { makeTempDir, removeAll } from '../../src/util/fs.ts';
import { GROUP, PASSWD } from './rootfs.ts';

let base = '';
let rootfs = '';
let empty = '';

beforeAll(async () => {
  base = await makeTempDir('kiln-user-test-');
  rootfs = join(base, 'rootfs');
  empty = join(base, 'empty');
  await mkdir(join(rootfs, 'etc'), { recursive: true });
  await mkdir(empty);
  await writeFile(join(rootfs, 'etc/passwd'), `# comment-like line\n${PASSWD}\n\n`);
  await writeFile(join(rootfs, 'etc/group'), GROUP);
});

afterAll(async () => {
  await removeAll(base);
});

async function failure(root: string, user: string): Promise<string> {
  const err = await resolveUser(root, user).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(KilnError);
  return (err as KilnError).message;
}

describe('resolveUser', () => {
  test('"" is root, also without passwd', async () => {
    expect(await resolveUser(rootfs, '')).toEqual({ uid: 0, gid: 0, additionalGids: [0] });
    expect(await resolveUser(empty, '')).toEqual({ uid: 0, gid: 0, additionalGids: [0] });
  });

  test('names and numeric ids found in passwd bring their groups', async () => {
    expect(await resolveUser(rootfs, 'alice')).toEqual({ uid: 1000, gid: 1000, additionalGids: [1000, 50, 29] });
    expect(await resolveUser(rootfs, '1001')).toEqual({ uid: 1001, gid: 1001, additionalGids: [1001, 50] });
    expect(await resolveUser(rootfs, 'root')).toEqual({ uid: 0, gid: 0, additionalGids: [0] });
  });

  test('an explicit group replaces the primary group and drops supplementary groups', async () => {
    expect(await resolveUser(rootfs, 'alice:staff')).toEqual({ uid: 1000, gid: 50, additionalGids: [50] });
    expect(await resolveUser(rootfs, 'alice:29')).toEqual({ uid: 1000, gid: 29, additionalGids: [29] });
    expect(await resolveUser(rootfs, 'bob:777')).toEqual({ uid: 1001, gid: 777, additionalGids: [777] });
  });

  test('uid:gid (and root) never need the files', async () => {
    expect(await resolveUser(empty, '1000:1000')).toEqual({ uid: 1000, gid: 1000, additionalGids: [1000] });
    expect(await resolveUser(empty, 'root:root')).toEqual({ uid: 0, gid: 0, additionalGids: [0] });
    expect(await resolveUser(rootfs, '1000:50')).toEqual({ uid: 1000, gid: 50, additionalGids: [50] });
  });

  test('numeric ids unknown to passwd are used as they are', async () => {
    expect(await resolveUser(rootfs, '4242')).toEqual({ uid: 4242, gid: 0, additionalGids: [0] });
    expect(await resolveUser(empty, '4242')).toEqual({ uid: 4242, gid: 0, additionalGids: [0] });
  });

  test('unknown names fail with BuildKit\'s texts', async () => {
    expect(await failure(rootfs, 'mallory')).toBe('unable to find user mallory: no matching entries in passwd file');
    expect(await failure(empty, 'alice')).toBe('unable to find user alice: no matching entries in passwd file');
    expect(await failure(rootfs, 'alice:wheel')).toBe('unable to find group wheel: no matching entries in group file');
    expect(await failure(rootfs, '-5')).toBe('uids and gids must be in range 0-2147483647');
  });

  test('/etc/passwd is looked up inside the rootfs, following symlinks there', async () => {
    const linked = join(base, 'linked');
    await mkdir(join(linked, 'real'), { recursive: true });
    await writeFile(join(linked, 'real/passwd'), 'carol:x:1234:4321::/:/bin/sh\n');
    await symlink('/real', join(linked, 'etc'));
    expect(await resolveUser(linked, 'carol')).toEqual({ uid: 1234, gid: 4321, additionalGids: [4321] });
    // an absolute symlink out of the rootfs stays inside it
    await rm(join(linked, 'etc'));
    await mkdir(join(linked, 'etc'));
    await symlink(join(rootfs, 'etc/passwd'), join(linked, 'etc/passwd'));
    expect(await failure(linked, 'alice')).toBe('unable to find user alice: no matching entries in passwd file');
  });
});
