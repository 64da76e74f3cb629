/**
 * Snapshot mechanisms on real overlayfs: layer extraction in overlay format (whiteouts,
 * opaque dirs), hardening against hostile layers, deterministic layer tars, mounts.
 */
import { afterEach, beforeEach, describe, expect, test } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { lstat, mkdir, readFile, readdir, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pack } from 'tar-stream';
import { applyLayer } from '../../src/snapshot/apply-layer.ts';
import { createLayerBlob, packDirectory } from '../../src/snapshot/pack.ts';
import { mountOverlay, unmountPath, withMountedView } from '../../src/snapshot/overlay.ts';
import { makeTempDir, removeAll } from '../../src/util/fs.ts';
import { mountsUnder } from '../helpers/kiln.ts';

type Entry = { name: string; type?: 'file' | 'directory' | 'symlink' | 'link'; body?: string; linkname?: string; mode?: number; uid?: number };

function layer(entries: Entry[]): Readable {
  const p = pack();
  for (const e of entries) {
    const type = e.type ?? 'file';
    p.entry({ name: e.name, type, linkname: e.linkname, mode: e.mode ?? (type === 'directory' ? 0o755 : 0o644), uid: e.uid ?? 0, gid: 0, mtime: new Date(1_700_000_000_000) }, e.body ?? '');
  }
  p.finalize();
  return p as unknown as Readable;
}

let base: string;
beforeEach(async () => {
  base = await makeTempDir('kiln-snap-');
});
afterEach(async () => {
  for (const m of mountsUnder(base).reverse()) spawnSync('umount', ['-l', m]);
  await removeAll(base);
});

async function applyTo(name: string, entries: Entry[], lowerDirs: string[] = []): Promise<string> {
  const dir = join(base, name);
  await mkdir(dir);
  await applyLayer(layer(entries), dir, { lowerDirs });
  return dir;
}

async function tarNames(dir: string): Promise<string[]> {
  const out = join(base, `t-${Math.random()}.tar`);
  const { createWriteStream } = await import('node:fs');
  await packDirectory(dir, createWriteStream(out), { mode: 'layer' });
  const r = spawnSync('tar', ['-tf', out], { encoding: 'utf8' });
  return r.stdout.split('\n').filter(Boolean);
}

describe('applyLayer + overlay', () => {
  test('layers stack like docker: whiteouts delete, opaque dirs hide, owners and modes kept', async () => {
    const l1 = await applyTo('l1', [
      { name: 'etc/', type: 'directory' },
      { name: 'etc/a', body: 'a1' },
      { name: 'etc/b', body: 'b1' },
      { name: 'opt/', type: 'directory' },
      { name: 'opt/old', body: 'old' },
      { name: 'bin/tool', body: '#!', mode: 0o4755, uid: 1000 },
      { name: 'bin/link', type: 'symlink', linkname: 'tool' },
      { name: 'bin/hard', type: 'link', linkname: 'bin/tool' },
    ]);
    const l2 = await applyTo('l2', [
      { name: 'etc/.wh.b' },
      { name: 'etc/a', body: 'a2' },
      { name: 'opt/', type: 'directory' },
      { name: 'opt/.wh..wh..opq' },
      { name: 'opt/new', body: 'new' },
    ]);
    await withMountedView([l2, l1], async (v) => {
      expect(await readFile(join(v, 'etc/a'), 'utf8')).toBe('a2');
      expect(await readdir(join(v, 'etc'))).toEqual(['a']);
      expect(await readdir(join(v, 'opt'))).toEqual(['new']);
      const tool = await stat(join(v, 'bin/tool'));
      expect(tool.mode & 0o7777).toBe(0o4755);
      expect(tool.uid).toBe(1000);
      expect(await readlink(join(v, 'bin/link'))).toBe('tool');
      expect((await stat(join(v, 'bin/hard'))).ino).toBe(tool.ino);
    }, base);
    expect(mountsUnder(base)).toEqual([]);
  });

  test('changes made through an overlay become a layer with .wh. entries', async () => {
    const l1 = await applyTo('l1', [{ name: 'keep', body: 'k' }, { name: 'gone', body: 'g' }, { name: 'd/x', body: 'x' }]);
    const upper = join(base, 'upper');
    const work = join(base, 'work');
    const merged = join(base, 'merged');
    await Promise.all([mkdir(upper), mkdir(work), mkdir(merged)]);
    await mountOverlay({ lowerDirs: [l1], upperDir: upper, workDir: work, target: merged });
    try {
      await rm(join(merged, 'gone'));
      await rm(join(merged, 'd'), { recursive: true });
      await mkdir(join(merged, 'd'));
      await writeFile(join(merged, 'd/y'), 'y');
      await writeFile(join(merged, 'added'), 'new');
    } finally {
      await unmountPath(merged);
    }
    const names = await tarNames(upper);
    expect(names).toContain('.wh.gone');
    expect(names).toContain('added');
    expect(names).toContain('d/');
    expect(names).toContain('d/.wh..wh..opq');
    expect(names).toContain('d/y');
    expect(names).not.toContain('keep');
  });

  test('a layer tar of the same tree is the same bytes every time', async () => {
    const l1 = await applyTo('l1', [{ name: 'b', body: 'b' }, { name: 'a/z', body: 'z' }, { name: 'a/y', type: 'symlink', linkname: '../b' }]);
    const one = await createLayerBlob(l1, join(base, 'one.tgz'));
    const two = await createLayerBlob(l1, join(base, 'two.tgz'));
    expect(one.digest).toBe(two.digest);
    expect(one.diffId).toBe(two.diffId);
    expect(one.mediaType).toBe('application/vnd.oci.image.layer.v1.tar+gzip');
    expect(await tarNames(l1)).toEqual(['a/', 'a/y', 'a/z', 'b']);
  });
});

describe('hostile layers are refused and write nothing outside the root', () => {
  const cases: [string, Entry[]][] = [
    ['.. in a name', [{ name: '../canary/evil', body: 'x' }]],
    ['.. after a directory', [{ name: 'a/../../canary/evil', body: 'x' }]],
    ['write through a symlink to an absolute path', [{ name: 'esc', type: 'symlink', linkname: '/' }, { name: 'esc/canary-abs', body: 'x' }]],
    ['write through a relative symlink', [{ name: 'esc', type: 'symlink', linkname: '../canary' }, { name: 'esc/evil', body: 'x' }]],
    ['hard link to a host file', [{ name: 'pw', type: 'link', linkname: '../canary/secret' }]],
    // A directory already checked for an earlier entry, then replaced by a symlink.
    ['a checked directory replaced by a symlink', [{ name: 'd', type: 'directory' }, { name: 'd/x', body: 'x' }, { name: 'd', type: 'symlink', linkname: '../canary' }, { name: 'd/evil', body: 'x' }]],
  ];
  for (const [name, entries] of cases) {
    test(name, async () => {
      const canary = join(base, 'canary');
      await mkdir(canary);
      await writeFile(join(canary, 'secret'), 'host data');
      const dir = join(base, 'root');
      await mkdir(dir);
      const err = await applyLayer(layer(entries), dir).catch((e) => e);
      expect(err).toBeInstanceOf(Error);
      expect(await readdir(canary)).toEqual(['secret']);
      expect(await readFile(join(canary, 'secret'), 'utf8')).toBe('host data');
      expect(await lstat('/canary-abs').catch(() => undefined)).toBeUndefined();
    });
  }
});
