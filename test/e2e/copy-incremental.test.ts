/**
 * Incremental COPY: after edits to a context (a changed file, a mode change, a new file and
 * dir, removed files and dirs, a changed symlink), the rebuilt COPY starts from its previous
 * layer and rewrites only what changed; the result equals a full copy in a fresh state dir, and
 * the previous layer is untouched (its build, cached, exports what it did before).
 */
import { describe, expect, test } from 'bun:test';
import { createHash } from 'node:crypto';
import { chmod, mkdir, readFile, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { extract } from 'tar-stream';
import { makeContext, runKiln, tempStateDir } from '../helpers/kiln.ts';
import { useBuildEnv } from '../helpers/build-env.ts';
import { runTool, verifyOciArchive } from '../helpers/verify-image.ts';

const env = useBuildEnv();

/** Every entry of a tar: type, mode, owner, size, link target and a content hash (mtimes of the copy's own tree too). */
async function tarEntries(file: string, top = 'app/'): Promise<Record<string, string>> {
  const entries: Record<string, string> = {};
  const ex = extract();
  const done = new Promise<void>((resolve, reject) => {
    ex.on('entry', (h, stream, next) => {
      const hash = createHash('sha256');
      stream.on('data', (c) => hash.update(c as Buffer));
      stream.on('end', () => {
        const inCopy = h.name.startsWith(top) && h.name !== top;
        entries[h.name] = [h.type, (h.mode ?? 0).toString(8), h.uid, h.gid, h.size, h.linkname ?? '', hash.digest('hex').slice(0, 16), inCopy ? Math.floor((h.mtime?.getTime() ?? 0) / 1000) : ''].join(' ');
        next();
      });
    });
    ex.on('finish', resolve);
    ex.on('error', reject);
  });
  ex.end(await readFile(file));
  await done;
  return entries;
}

/**
 * Builds `ctxDir` in state dir `root` as an OCI archive `name`: the image's layer count, its top
 * layer's entries (tarEntries, times compared under `top` but not of `top` itself: a copy's
 * destination directory is made when the copy runs) and the build's log.
 */
async function topLayerOf(ctxDir: string, root: string, name: string, top: string) {
  const r = await runKiln(['build', '--progress=plain', '-o', `type=oci,dest=${join(env.out, name)}`, ctxDir], { root });
  expect(r.code).toBe(0);
  const layers = (await verifyOciArchive(join(env.out, name))).manifest.layers as { digest: string }[];
  const blob = join(env.out, `${name}.layer`);
  await runTool('sh', ['-c', `tar -xOf '${join(env.out, name)}' 'blobs/sha256/${layers.at(-1)!.digest.slice(7)}' | gunzip > '${blob}'`]);
  return { count: layers.length, entries: await tarEntries(blob, top), log: r.stderr };
}

describe('incremental COPY', () => {
  test('equals a full copy after every kind of edit, and leaves the previous layer intact', async () => {
    const files: Record<string, string> = {
      Dockerfile: `FROM ${env.reg.ref}\nCOPY --chown=1000:2000 . /app\n`,
      'a.txt': 'alpha\n',
      'keep/deep/one.txt': 'one\n',
      'keep/two.txt': 'two\n',
      'gone/x.txt': 'x\n',
      'gone/sub/y.txt': 'y\n',
      'mode.sh': 'echo hi\n',
      'edit.txt': 'before\n',
      'drop.txt': 'drop me\n',
    };
    for (let i = 0; i < 200; i++) files[`many/f${i}.txt`] = `file ${i}\n`.repeat(i % 7 + 1);
    const ctx = await makeContext(files);
    await symlink('a.txt', join(ctx.dir, 'link'));
    // Files changed in the last 2 s are never trusted by their stat (racy): let the context settle.
    await new Promise((r) => setTimeout(r, 2100));
    // env.state: this file's state dir, where the incremental builds run; `fresh` for the full copy.
    const fresh = await tempStateDir();
    try {
      const build = (root: string, name: string) =>
        runKiln(['build', '--progress=plain', '-o', `type=tar,dest=${join(env.out, name)}`, ctx.dir], { root });
      const first = await build(env.state.root, 'first.tar');
      expect(first.code).toBe(0);

      await writeFile(join(ctx.dir, 'edit.txt'), 'after!!\n'); // same size, new content
      await chmod(join(ctx.dir, 'mode.sh'), 0o755);
      await unlink(join(ctx.dir, 'drop.txt'));
      await rm(join(ctx.dir, 'gone'), { recursive: true });
      await mkdir(join(ctx.dir, 'new/dir'), { recursive: true });
      await writeFile(join(ctx.dir, 'new/dir/n.txt'), 'new\n');
      await unlink(join(ctx.dir, 'link'));
      await symlink('keep/two.txt', join(ctx.dir, 'link'));

      const second = await build(env.state.root, 'second.tar');
      expect(second.code).toBe(0);
      expect(second.stderr).toMatch(/incremental copy \(delta\): \d+ files unchanged since the previous run of this step, \d+ copied, \d+ removed/);
      const counts = /incremental copy \(\w+\): (\d+) files unchanged .*, (\d+) copied, (\d+) removed/.exec(second.stderr)!;
      expect(Number(counts[1])).toBeGreaterThan(200);
      expect(Number(counts[2])).toBeLessThan(10);

      const full = await build(fresh.root, 'full.tar');
      expect(full.code).toBe(0);
      expect(full.stderr).not.toContain('incremental copy');
      expect(await tarEntries(join(env.out, 'second.tar'))).toEqual(await tarEntries(join(env.out, 'full.tar')));
      // The image: the delta and the layer it started from export as one layer, entry for entry the
      // full copy's (the time of /app itself is when the copy ran, in both).
      const secondImage = await topLayerOf(ctx.dir, env.state.root, 'second-oci.tar', 'app/');
      const fullImage = await topLayerOf(ctx.dir, fresh.root, 'full-oci.tar', 'app/');
      expect({ ...secondImage, log: '' }).toEqual({ ...fullImage, log: '' });

      // Back to the first contents: the first build's cache hit, exported as it was.
      await writeFile(join(ctx.dir, 'edit.txt'), 'before\n');
      await chmod(join(ctx.dir, 'mode.sh'), 0o644);
      await writeFile(join(ctx.dir, 'drop.txt'), 'drop me\n');
      await mkdir(join(ctx.dir, 'gone/sub'), { recursive: true });
      await writeFile(join(ctx.dir, 'gone/x.txt'), 'x\n');
      await writeFile(join(ctx.dir, 'gone/sub/y.txt'), 'y\n');
      await rm(join(ctx.dir, 'new'), { recursive: true });
      await unlink(join(ctx.dir, 'link'));
      await symlink('a.txt', join(ctx.dir, 'link'));
      const again = await build(env.state.root, 'again.tar');
      expect(again.code).toBe(0);
      expect(again.stderr).toContain('0 steps run');
      const a = await tarEntries(join(env.out, 'again.tar'));
      const f = await tarEntries(join(env.out, 'first.tar'));
      // file times differ (the files were rewritten), contents, modes and owners may not
      const noTimes = (e: Record<string, string>) => Object.fromEntries(Object.entries(e).map(([k, v]) => [k, v.split(' ').slice(0, 7).join(' ')]));
      expect(noTimes(a)).toEqual(noTimes(f));
      expect((await runKiln(['doctor', '--store'], { root: env.state.root })).code).toBe(0);
    } finally {
      await ctx.cleanup();
      await fresh.cleanup();
    }
  }, 60_000);

  test('deltas on deltas, and the changes a delta cannot say (a removed path the base has, a file become a directory), export as a full copy does', async () => {
    const files: Record<string, string> = {
      // /etc/hostname-like: the base has /bin/busybox; COPY into / puts bin/extra next to it
      Dockerfile: `FROM ${env.reg.ref}\nCOPY . /\n`,
      'app/a.txt': 'a\n',
      'app/b.txt': 'b\n',
      'app/turn': 'a file that becomes a directory\n',
      'bin/busybox': 'shadows the base busybox, then goes away\n',
    };
    for (let i = 0; i < 50; i++) files[`data/f${i}.txt`] = `data ${i}\n`;
    const ctx = await makeContext(files);
    const settle = () => new Promise((r) => setTimeout(r, 2100));
    await settle();
    const fresh = await tempStateDir();
    try {
      const build = (root: string, name: string) => runKiln(['build', '--progress=plain', '-o', `type=oci,dest=${join(env.out, name)}`, ctx.dir], { root });
      const layers = async (name: string) => (await verifyOciArchive(join(env.out, name))).manifest.layers.map((l: { digest: string }) => l.digest);
      expect((await build(env.state.root, 'd0.tar')).code).toBe(0);
      // Two deltas in a row: one image layer, equal to a full copy's.
      await writeFile(join(ctx.dir, 'app/a.txt'), 'a, edited\n');
      const d1 = await build(env.state.root, 'd1.tar');
      expect(d1.stderr).toContain('incremental copy (delta)');
      await writeFile(join(ctx.dir, 'app/b.txt'), 'b, edited\n');
      await writeFile(join(ctx.dir, 'data/new.txt'), 'new\n');
      const d2 = await build(env.state.root, 'd2.tar');
      expect(d2.code).toBe(0);
      // 2 changed; a.txt too when its edit is still racy (under 2 s old: its stat key is not trusted)
      expect(d2.stderr).toMatch(/incremental copy \(delta\): \d+ files unchanged since the previous run of this step, [23] copied, 0 removed/);
      expect((await build(fresh.root, 'f2.tar')).code).toBe(0);
      expect(await layers('d2.tar')).toEqual(await layers('f2.tar'));
      expect((await layers('d2.tar')).length).toBe((await layers('d0.tar')).length);

      // A file becomes a directory, and a removed file is one the base also has: a clone.
      await rm(join(ctx.dir, 'app/turn'));
      await mkdir(join(ctx.dir, 'app/turn'));
      await writeFile(join(ctx.dir, 'app/turn/inside.txt'), 'inside\n');
      await rm(join(ctx.dir, 'bin'), { recursive: true });
      const c3 = await build(env.state.root, 'c3.tar');
      expect(c3.code).toBe(0);
      expect(c3.stderr).toContain('incremental copy (clone)');
      const f3 = await tempStateDir();
      try {
        expect((await build(f3.root, 'f3.tar')).code).toBe(0);
        expect(await layers('c3.tar')).toEqual(await layers('f3.tar'));
      } finally {
        await f3.cleanup();
      }
      // After the clone, deltas again.
      await writeFile(join(ctx.dir, 'app/a.txt'), 'a, edited twice\n');
      const d4 = await build(env.state.root, 'd4.tar');
      expect(d4.stderr).toContain('incremental copy (delta)');
      expect((await runKiln(['doctor', '--store'], { root: env.state.root })).code).toBe(0);
    } finally {
      await ctx.cleanup();
      await fresh.cleanup();
    }
  }, 90_000);

  test('COPY --link: the delta is relinked with the layer it joins, and exports as a full copy does', async () => {
    const files: Record<string, string> = { Dockerfile: `FROM ${env.reg.ref}\nCOPY --link . /srv\n` };
    for (let i = 0; i < 30; i++) files[`d${i % 3}/f${i}.txt`] = `f ${i}\n`;
    const ctx = await makeContext(files);
    await new Promise((r) => setTimeout(r, 2100));
    const fresh = await tempStateDir();
    try {
      const topLayer = (root: string, name: string) => topLayerOf(ctx.dir, root, name, 'srv/');
      const l0 = await topLayer(env.state.root, 'l0.tar');
      await writeFile(join(ctx.dir, 'd1/f1.txt'), 'edited\n');
      await rm(join(ctx.dir, 'd2/f2.txt'));
      const l1 = await topLayer(env.state.root, 'l1.tar');
      expect(l1.log).toMatch(/incremental copy \(delta\): \d+ files unchanged since the previous run of this step, 1 copied, 1 removed/);
      const lf = await topLayer(fresh.root, 'lf.tar');
      expect(l1.entries).toEqual(lf.entries);
      expect(l1.count).toBe(lf.count);
      expect(l1.count).toBe(l0.count);
      expect(l1.entries['srv/d2/f2.txt']).toBeUndefined();
    } finally {
      await ctx.cleanup();
      await fresh.cleanup();
    }
  }, 60_000);
});
