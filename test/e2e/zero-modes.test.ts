/**
 * A mode, uid or gid of 0 is a value, never "unset": `chmod 000` files and directories keep
 * 0000 in every output (tar, local, the image's layer), as BuildKit keeps them.
 */
import { describe, expect, test } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { makeContext, runKiln } from '../helpers/kiln.ts';
import { useBuildEnv } from '../helpers/build-env.ts';

const env = useBuildEnv();

/** `mode owner/group name` of each entry of a tar listing (GNU tar --numeric-owner). */
function listing(tarFile: string, filter: RegExp): string[] {
  const r = spawnSync('tar', ['-tvf', tarFile, '--numeric-owner'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout
    .split('\n')
    .filter((l) => filter.test(l))
    .map((l) => {
      const f = l.split(/\s+/);
      return `${f[0]} ${f[1]} ${f[f.length - 1]}`;
    });
}

describe('zero modes and owners', () => {
  test('chmod 000 survives tar, local and image outputs', async () => {
    const ctx = await makeContext({
      Dockerfile: `FROM ${env.reg.ref}\nRUN mkdir /z && echo n > /z/f && chmod 000 /z/f && mkdir /z/d && chmod 000 /z/d && echo o > /z/owned && chown 1:1 /z/owned && chmod 0 /z/owned\n`,
    });
    try {
      const tar = join(env.out, 'zero.tar');
      const dir = join(env.out, 'zero-dir');
      const oci = join(env.out, 'zero-oci');
      const r = await runKiln(['build', '--progress=plain', '-o', `type=tar,dest=${tar}`, '-o', `type=local,dest=${dir}`, '-o', `type=oci,dest=${oci},tar=false,compression=uncompressed`, ctx.dir], { root: env.state.root });
      if (r.code !== 0) console.error(r.stderr);
      expect(r.code).toBe(0);
      expect(listing(tar, /\bz\/(f|d|owned)\/?$/).sort()).toEqual(['---------- 0/0 z/f', 'd--------- 0/0 z/d/', '---------- 1/1 z/owned'].sort());
      expect(((await lstat(join(dir, 'z/f'))).mode & 0o7777).toString(8)).toBe('0');
      expect(((await lstat(join(dir, 'z/d'))).mode & 0o7777).toString(8)).toBe('0');
      // The image's top layer, read by GNU tar.
      const index = JSON.parse(await Bun.file(join(oci, 'index.json')).text());
      const blob = (d: string) => join(oci, 'blobs', 'sha256', d.slice('sha256:'.length));
      const manifest = JSON.parse(await Bun.file(blob(index.manifests[0].digest)).text());
      const top = manifest.layers[manifest.layers.length - 1].digest;
      expect(listing(blob(top), /\bz\/(f|d|owned)\/?$/).sort()).toEqual(['---------- 0/0 z/f', 'd--------- 0/0 z/d/', '---------- 1/1 z/owned'].sort());
    } finally {
      await ctx.cleanup();
    }
  });
});
