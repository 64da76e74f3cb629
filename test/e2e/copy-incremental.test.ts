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

const env = useBuildEnv();

/** Every entry of a tar: type, mode, owner, size, link target and a content hash (mtimes of the copy's own tree too). */
async function tarEntries(file: string): Promise<Record<string, string>> {
  const entries: Record<string, string> = {};
  const ex = extract();
  const done = new Promise<void>((resolve, reject) => {
    ex.on('entry', (h, stream, next) => {
      const hash = createHash('sha256');
      stream.on('data', (c) => hash.update(c as Buffer));
      stream.on('end', () => {
        const inCopy = h.name.startsWith('app/') && h.name !== 'app/';
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
      expect(second.stderr).toMatch(/incremental copy: \d+ files unchanged since the previous run of this step, \d+ copied, \d+ removed/);
      const counts = /incremental copy: (\d+) files unchanged .*, (\d+) copied, (\d+) removed/.exec(second.stderr)!;
      expect(Number(counts[1])).toBeGreaterThan(200);
      expect(Number(counts[2])).toBeLessThan(10);

      const full = await build(fresh.root, 'full.tar');
      expect(full.code).toBe(0);
      expect(full.stderr).not.toContain('incremental copy');
      expect(await tarEntries(join(env.out, 'second.tar'))).toEqual(await tarEntries(join(env.out, 'full.tar')));

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
});
