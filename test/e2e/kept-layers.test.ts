/**
 * The local image store keeps what the build made: `-t` alone stores the layers the build
 * made uncompressed, as their snapshots (no blob written, nothing compressed); FROM of that
 * image uses the snapshots; a push compresses each layer once (gzip, by diff id) and a second
 * push of the same layers uploads nothing; save writes the uncompressed layers; GC keeps the
 * snapshots while a name reaches them and drops them after `image rm`.
 */
import { describe, expect, test } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { withBusyboxRegistry } from '../helpers/busybox-image.ts';
import { makeContext, runKiln, tempStateDir } from '../helpers/kiln.ts';
import { makeTempDir, removeAll } from '../../src/util/fs.ts';
import { OCI_LAYER, OCI_LAYER_GZIP } from '../../src/oci/media-types.ts';

const blobCount = async (root: string) => (await readdir(join(root, 'content', 'blobs', 'sha256'))).length;

/** The manifest a name of the store points at (the first of an index). */
async function storedManifest(root: string, name: string): Promise<{ layers: { mediaType: string; digest: string }[]; config: { digest: string } }> {
  const db = new DatabaseSync(join(root, 'kiln.db'), { readOnly: true });
  const row = db.prepare('SELECT digest FROM images WHERE name = ?').get(name) as { digest: string } | undefined;
  db.close();
  if (!row) throw new Error(`no ${name} in the image store`);
  const read = async (d: string) => JSON.parse(await readFile(join(root, 'content', 'blobs', 'sha256', d.slice(7)), 'utf8'));
  const doc = await read(row.digest);
  return doc.manifests ? read(doc.manifests[0].digest) : doc;
}

function countRows(root: string, table: string): number {
  const db = new DatabaseSync(join(root, 'kiln.db'), { readOnly: true });
  const n = (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
  db.close();
  return n;
}

describe('image store keeps layers uncompressed', () => {
  test('-t writes no layer blob; FROM, push (once), save, prune and rm work on kept layers', async () => {
    const reg = await withBusyboxRegistry();
    const state = await tempStateDir();
    const work = await makeTempDir('kiln-kept-');
    const ctx = await makeContext({ Dockerfile: `FROM ${reg.ref}\nCOPY big.txt /big.txt\nRUN echo made > /made.txt\n`, 'big.txt': 'kept layer\n'.repeat(100_000) });
    const next = await makeContext({ Dockerfile: 'FROM corp/app:1\nRUN cat /made.txt > /next.txt\n' });
    try {
      // The base pulled first: what the -t build adds is then only its own.
      const baseOnly = await makeContext({ Dockerfile: `FROM ${reg.ref}\nRUN true\n` });
      const pulled = await runKiln(['build', '-q', '-o', 'type=cacheonly', baseOnly.dir], { root: state.root });
      await baseOnly.cleanup();
      expect(pulled.code).toBe(0);
      const before = await blobCount(state.root);
      const b = await runKiln(['build', '--progress=plain', '-t', 'corp/app:1', ctx.dir], { root: state.root });
      expect(b.code).toBe(0);
      expect(b.stderr).not.toContain('compressing');
      // Only the config and the manifest are new: the two layers the build made stay snapshots.
      expect((await blobCount(state.root)) - before).toBe(2);
      const m = await storedManifest(state.root, 'docker.io/corp/app:1');
      expect(m.layers.map((l) => l.mediaType)).toEqual([OCI_LAYER_GZIP, OCI_LAYER, OCI_LAYER]);
      const config = JSON.parse(await readFile(join(state.root, 'content', 'blobs', 'sha256', m.config.digest.slice(7)), 'utf8'));
      expect(m.layers.slice(1).map((l) => l.digest)).toEqual(config.rootfs.diff_ids.slice(1));
      expect((await runKiln(['doctor', '--store'], { root: state.root })).stdout).toMatch(/ok\s+store integrity/);

      // FROM the stored image: its layers are the snapshots themselves (no registry, no unpack).
      const out = join(work, 'out');
      const n = await runKiln(['build', '--progress=plain', '-o', `type=local,dest=${out}`, next.dir], { root: state.root });
      expect(n.code).toBe(0);
      expect(await readFile(join(out, 'next.txt'), 'utf8')).toBe('made\n');

      // A push compresses each kept layer once; the registry gets gzip layers, the same config.
      const remote = `${reg.registry.host}/kept/app:1`;
      expect((await runKiln(['image', 'tag', 'corp/app:1', remote], { root: state.root })).code).toBe(0);
      const p1 = await runKiln(['image', 'push', remote], { root: state.root });
      expect(p1.code).toBe(0);
      expect(p1.stdout.match(/: pushed/g)?.length).toBe(3); // two layers and the config
      const inspect = spawnSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${remote}`], { encoding: 'utf8' });
      expect(inspect.status).toBe(0);
      const pushedManifest = JSON.parse(inspect.stdout);
      expect(pushedManifest.layers.map((l: { mediaType: string }) => l.mediaType)).toEqual([OCI_LAYER_GZIP, OCI_LAYER_GZIP, OCI_LAYER_GZIP]);
      expect(pushedManifest.config.digest).toBe(m.config.digest);
      // Pushed again (another tag, same layers): nothing is compressed or uploaded again.
      const remote2 = `${reg.registry.host}/kept/app:2`;
      expect((await runKiln(['image', 'tag', 'corp/app:1', remote2], { root: state.root })).code).toBe(0);
      const blobsBefore = await blobCount(state.root);
      const p2 = await runKiln(['image', 'push', remote2], { root: state.root });
      expect(p2.code).toBe(0);
      expect(p2.stdout).not.toContain(': pushed');
      expect(await blobCount(state.root)).toBe(blobsBefore); // the gzip form is the one made for the first push
      const copied = spawnSync('skopeo', ['copy', '--src-tls-verify=false', `docker://${remote2}`, `oci:${join(work, 'layout')}:x`], { encoding: 'utf8' });
      expect(copied.stderr).toBe('');
      expect(copied.status).toBe(0);

      // save writes the kept layers uncompressed; skopeo reads the archive.
      const saved = join(work, 'saved.tar');
      expect((await runKiln(['image', 'save', 'corp/app:1', '-o', saved], { root: state.root })).code).toBe(0);
      expect(spawnSync('skopeo', ['inspect', `docker-archive:${saved}:docker.io/corp/app:1`]).status).toBe(0);

      // GC keeps the kept snapshots while a name reaches them; after rm they go.
      expect((await runKiln(['prune', '--all'], { root: state.root })).code).toBe(0);
      expect(countRows(state.root, 'built_layers')).toBe(2);
      const again = await runKiln(['build', '--progress=plain', '--no-cache', '-o', `type=local,dest=${join(work, 'out2')}`, next.dir], { root: state.root });
      expect(again.code).toBe(0);
      expect((await runKiln(['doctor', '--store'], { root: state.root })).stdout).toMatch(/ok\s+store integrity/);
      for (const name of ['corp/app:1', remote, remote2]) expect((await runKiln(['image', 'rm', name], { root: state.root })).code).toBe(0);
      expect((await runKiln(['prune', '--all'], { root: state.root })).code).toBe(0);
      expect(countRows(state.root, 'built_layers')).toBe(0);
      expect(countRows(state.root, 'snapshots')).toBe(0);
      const du = await runKiln(['du'], { root: state.root });
      expect(du.code).toBe(0);
      expect((await runKiln(['doctor', '--store'], { root: state.root })).stdout).toMatch(/ok\s+store integrity/);
    } finally {
      await ctx.cleanup();
      await next.cleanup();
      await reg.stop();
      await state.cleanup();
      await removeAll(work);
    }
  }, 120_000);

  test('-o type=tar and type=local compress nothing: the layers are only measured, once', async () => {
    const state = await tempStateDir();
    const ctx = await makeContext({ Dockerfile: 'FROM scratch\nCOPY f /f\n', f: 'x'.repeat(100_000) });
    const out = await makeTempDir('kiln-tar-out-');
    try {
      const before = await blobCount(state.root).catch(() => 0);
      for (const o of [`type=tar,dest=${join(out, 'a.tar')}`, `type=local,dest=${join(out, 'l')}`, `type=tar,dest=${join(out, 'b.tar')}`]) {
        const r = await runKiln(['build', '--progress=rawjson', '-o', o, ctx.dir], { root: state.root });
        expect(r.code).toBe(0);
        expect(r.stderr).not.toContain('compressing layer');
        if (!o.endsWith('a.tar')) expect(r.stderr).not.toContain('hashing layer'); // measured by the first export, recorded
      }
      expect(await blobCount(state.root)).toBe(before);
      expect(spawnSync('tar', ['-tf', join(out, 'b.tar')], { encoding: 'utf8' }).stdout).toContain('f');
    } finally {
      await removeAll(out);
      await ctx.cleanup();
      await state.cleanup();
    }
  });
});
