/**
 * The local image store and air-gapped builds: load a base from a tar (docker save and OCI
 * archives), build FROM it in a network namespace with no route and the registry gone,
 * -t/type=image store results, save writes an archive skopeo reads, prune keeps images.
 */
import { describe, expect, test } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { withBusyboxRegistry } from '../helpers/busybox-image.ts';
import { kilnBin, makeContext, runKiln, tempStateDir } from '../helpers/kiln.ts';
import { makeTempDir, removeAll } from '../../src/util/fs.ts';

/** dist/kiln in a new network namespace: loopback only, not even up. */
function kilnOffline(args: string[], root: string): { code: number; stdout: string; stderr: string } {
  const r = spawnSync('unshare', ['-n', kilnBin, ...args], { env: { ...process.env, KILN_ROOT: root }, encoding: 'utf8' });
  return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

describe('local image store', () => {
  test('load, ls, tag, build FROM it with no network, -t stores, save, rm, prune keeps images', async () => {
    const work = await makeTempDir('kiln-imgstore-');
    const online = await tempStateDir();
    const offline = await tempStateDir();
    const reg = await withBusyboxRegistry();
    const contexts: { cleanup(): Promise<void> }[] = [];
    try {
      // A base image made online, written as a docker save archive and an OCI archive.
      const base = await makeContext({ Dockerfile: `FROM ${reg.ref}\nRUN echo base > /base.txt\n` });
      const b = await runKiln(['build', '-q', '-t', 'corp/base:1', '-o', `type=docker,dest=${join(work, 'base.docker.tar')}`, '-o', `type=oci,dest=${join(work, 'base.oci.tar')}`, base.dir], { root: online.root });
      await base.cleanup();
      expect(b.code).toBe(0);
      await reg.stop(); // from here on there is no registry at all

      const l1 = await runKiln(['image', 'load', join(work, 'base.docker.tar')], { root: offline.root });
      expect(l1.code).toBe(0);
      expect(l1.stdout).toBe('Loaded image: corp/base:1\n');
      const l2 = await runKiln(['image', 'load', '-'], { root: offline.root, input: undefined, env: {} });
      expect(l2.code).toBe(1); // nothing on stdin: a clear error, not a hang
      expect(l2.stderr).toContain('the image archive is empty');
      expect((await runKiln(['image', 'tag', 'corp/base:1', 'base:latest'], { root: offline.root })).code).toBe(0);
      const ls = await runKiln(['image', 'ls'], { root: offline.root });
      expect(ls.stdout).toMatch(/^base:latest\s+sha256:/m);
      expect(ls.stdout).toMatch(/^corp\/base:1\s+sha256:/m);

      // Air-gapped: FROM the loaded image, RUN in it, no route anywhere; the result stored with -t.
      const app = await makeContext({ Dockerfile: 'FROM base\nRUN cat /base.txt > /app.txt\n' });
      contexts.push(app);
      const built = kilnOffline(['build', '--progress=plain', '-t', 'corp/app:2', app.dir], offline.root);
      expect(built.stderr).toContain('2 steps run');
      expect(built.code).toBe(0);
      const next = await makeContext({ Dockerfile: 'FROM corp/app:2\nRUN cat /app.txt > /next.txt\n' });
      contexts.push(next);
      const out = join(work, 'next');
      const n = kilnOffline(['build', '--progress=plain', '-o', `type=local,dest=${out}`, next.dir], offline.root);
      expect(n.code).toBe(0);
      expect(await readFile(join(out, 'next.txt'), 'utf8')).toBe('base\n');
      // --pull asks the registry, which is not there.
      const pulled = kilnOffline(['build', '--progress=plain', '--pull', next.dir], offline.root);
      expect(pulled.code).toBe(1);
      expect(pulled.stderr).toContain('failed to resolve image corp/app:2');

      // save → an archive skopeo reads both as OCI and as docker-archive; load it elsewhere.
      const saved = join(work, 'saved.tar');
      expect((await runKiln(['image', 'save', 'corp/app:2', 'base', '-o', saved], { root: offline.root })).code).toBe(0);
      expect(spawnSync('skopeo', ['inspect', `oci-archive:${saved}:latest`]).status).toBe(0);
      expect(spawnSync('skopeo', ['inspect', `docker-archive:${saved}:docker.io/corp/app:2`]).status).toBe(0);
      const third = await tempStateDir();
      contexts.push(third);
      const l3 = await runKiln(['image', 'load', saved], { root: third.root });
      expect(l3.stdout).toBe('Loaded image: corp/app:2\nLoaded image: base:latest\n');

      // prune --all drops the build cache, not the images; the store stays consistent.
      expect((await runKiln(['prune', '--all'], { root: offline.root })).code).toBe(0);
      expect(kilnOffline(['build', '--progress=plain', next.dir], offline.root).code).toBe(0);
      expect((await runKiln(['doctor', '--store'], { root: offline.root })).stdout).toMatch(/ok\s+store integrity: .* 3 images/);
      expect((await runKiln(['image', 'rm', 'base'], { root: offline.root })).stdout).toBe('Untagged: base:latest\n');
      const gone = await runKiln(['image', 'rm', 'base'], { root: offline.root });
      expect(gone.code).toBe(2);
      expect(gone.stderr).toContain('no image base in the local store');
    } finally {
      for (const c of contexts) await c.cleanup();
      await reg.stop().catch(() => {});
      await online.cleanup();
      await offline.cleanup();
      await removeAll(work);
    }
  }, 120_000);
});
