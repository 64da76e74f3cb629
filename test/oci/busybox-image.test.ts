import { afterAll, describe, expect, test } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { readFile, readdir, stat, lstat, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { makeBusyboxImage } from '../../scripts/make-busybox-image.ts';
import { digestHex, sha256 } from '../../src/util/digest.ts';
import { makeTempDir, removeAll } from '../../src/util/fs.ts';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await removeAll(d);
});

function run(cmd: string, args: string[], cwd?: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

describe('makeBusyboxImage', () => {
  test('writes a valid, deterministic OCI layout that unpacks to a usable rootfs', async () => {
    const root = await makeTempDir('kiln-bbtest-');
    dirs.push(root);
    const a = await makeBusyboxImage(join(root, 'a'));
    const b = await makeBusyboxImage(join(root, 'b'), { tag: 'v1' });
    expect(b).toEqual(a);

    // every blob is content-addressed
    for (const name of await readdir(join(root, 'a/blobs/sha256'))) {
      expect(digestHex(sha256(await readFile(join(root, 'a/blobs/sha256', name))))).toBe(name);
    }
    const index = JSON.parse(await readFile(join(root, 'b/index.json'), 'utf8'));
    expect(index.manifests[0].annotations['org.opencontainers.image.ref.name']).toBe('v1');

    const inspect = JSON.parse(run('skopeo', ['inspect', `oci:${join(root, 'a')}:latest`]));
    expect(inspect.Digest).toBe(a.manifestDigest);
    expect(inspect.Os).toBe('linux');
    expect(inspect.Env).toEqual(['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin']);
    const cfg = JSON.parse(run('skopeo', ['inspect', '--config', `oci:${join(root, 'a')}:latest`]));
    expect(cfg.config.Cmd).toEqual(['sh']);
    expect(cfg.history.length).toBe(1);

    run('umoci', ['unpack', '--image', 'a:latest', 'bundle'], root);
    const rootfs = join(root, 'bundle/rootfs');
    for (const applet of ['sh', 'echo', 'cat', 'ls', 'true', 'false', 'sleep', 'env', 'id', 'mkdir']) {
      expect(await readlink(join(rootfs, 'bin', applet))).toBe('busybox');
    }
    expect((await stat(join(rootfs, 'tmp'))).mode & 0o7777).toBe(0o1777);
    expect((await lstat(join(rootfs, 'root'))).isDirectory()).toBe(true);
    expect(await readFile(join(rootfs, 'etc/passwd'), 'utf8')).toMatch(/^root:x:0:0:/m);
    expect(await readFile(join(rootfs, 'etc/passwd'), 'utf8')).toMatch(/^nobody:x:65534:65534:/m);
    expect(await readFile(join(rootfs, 'etc/group'), 'utf8')).toMatch(/^root:x:0:/m);
    // the busybox binary itself runs from the unpacked tree
    expect(run(join(rootfs, 'bin/busybox'), ['echo', 'hi']).trim()).toBe('hi');
  });
});
