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

  test('extended attributes travel as SCHILY.xattr records; overlay\'s own never do', async () => {
    const dir = await applyTo('x', [{ name: 'bin/ping', body: 'elf' }, { name: 'plain', body: 'p' }, { name: 'd/', type: 'directory' }]);
    const set = (path: string, name: string, value: string) => expect(spawnSync('setfattr', ['-h', '-n', name, '-v', value, join(dir, path)]).status).toBe(0);
    set('bin/ping', 'security.capability', '0sAQAAAgAgAAAAAAAAAAAAAAAAAAA=');
    set('bin/ping', 'user.kiln', 'yes');
    set('d', 'trusted.overlay.opaque', 'y');
    const out = join(base, 'x.tar');
    const { createWriteStream } = await import('node:fs');
    await packDirectory(dir, createWriteStream(out), { mode: 'layer' });
    const { extract } = await import('tar-stream');
    const pax = new Map<string, Record<string, string> | undefined>();
    const ex = extract();
    ex.on('entry', (h, stream, next) => {
      pax.set(h.name, h.pax as Record<string, string> | undefined);
      stream.resume();
      stream.on('end', next);
    });
    const { createReadStream } = await import('node:fs');
    await new Promise<void>((res, rej) => createReadStream(out).pipe(ex).on('finish', res).on('error', rej));
    const ping = pax.get('bin/ping')!;
    expect(Buffer.from(ping['SCHILY.xattr.security.capability']!, 'latin1').toString('base64')).toBe('AQAAAgAgAAAAAAAAAAAAAAAAAAA=');
    expect(ping['SCHILY.xattr.user.kiln']).toBe('yes');
    expect(pax.get('plain') ?? undefined).toBeUndefined();
    // The opaque mark becomes a .wh..wh..opq entry, not an xattr record.
    expect(Object.keys(pax.get('d/') ?? {}).filter((k) => k.includes('trusted'))).toEqual([]);
    expect(pax.has('d/.wh..wh..opq')).toBe(true);
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

describe('hostile layers write nothing outside the root', () => {
  // `canary` is a host directory beside the root; CANARY stands for its absolute path.
  // Each case is refused (an error) or lands inside the root, at `inside`.
  const cases: [string, Entry[], { refused?: true; inside?: string; lowers?: Entry[] }][] = [
    ['.. in a name', [{ name: '../canary/evil', body: 'x' }], { refused: true }],
    ['.. after a directory', [{ name: 'a/../../canary/evil', body: 'x' }], { refused: true }],
    ['write through a symlink to an absolute path', [{ name: 'esc', type: 'symlink', linkname: '/' }, { name: 'esc/canary-abs', body: 'x' }], { inside: 'canary-abs' }],
    ['write through a relative symlink', [{ name: 'esc', type: 'symlink', linkname: '../canary' }, { name: 'esc/evil', body: 'x' }], { inside: 'canary/evil' }],
    ['write through a symlink to the host directory', [{ name: 'esc', type: 'symlink', linkname: 'CANARY' }, { name: 'esc/evil', body: 'x' }], { inside: 'CANARY/evil' }],
    ['hard link to a host file', [{ name: 'pw', type: 'link', linkname: '../canary/secret' }], { refused: true }],
    ['hard link through a symlink to the host directory', [{ name: 'e', type: 'symlink', linkname: 'CANARY' }, { name: 'hl', type: 'link', linkname: 'e/secret' }], { refused: true }],
    ['hard link through a symlink in a lower layer', [{ name: 'hl', type: 'link', linkname: 'e/secret' }], { refused: true, lowers: [{ name: 'e', type: 'symlink', linkname: 'CANARY' }] }],
    ['hard link through a relative symlink in a lower layer', [{ name: 'hl', type: 'link', linkname: 'e/secret' }], { refused: true, lowers: [{ name: 'e', type: 'symlink', linkname: '../canary' }] }],
    ['hard link to a directory', [{ name: 'd', type: 'directory' }, { name: 'hl', type: 'link', linkname: 'd' }], { refused: true }],
    ['whiteout through a symlink', [{ name: 'e', type: 'symlink', linkname: 'CANARY' }, { name: 'e/.wh.secret', body: '' }], { inside: 'CANARY/secret' }],
    ['whiteout of ..', [{ name: 'a/.wh...', body: '' }], { refused: true }],
    ['opaque dir through a symlink', [{ name: 'e', type: 'symlink', linkname: 'CANARY' }, { name: 'e/.wh..wh..opq', body: '' }], { inside: 'CANARY' }],
    // A directory already resolved for an earlier entry, then replaced by a symlink.
    ['a checked directory replaced by a symlink', [{ name: 'd', type: 'directory' }, { name: 'd/x', body: 'x' }, { name: 'd', type: 'symlink', linkname: 'CANARY' }, { name: 'd/evil', body: 'x' }], { inside: 'CANARY/evil' }],
    // Its time is set at the end: never through the symlink that replaced it.
    ['a directory replaced by a symlink before its time is set', [{ name: 'd', type: 'directory' }, { name: 'd', type: 'symlink', linkname: 'CANARY' }], { inside: 'd' }],
    ['a symlink loop', [{ name: 'l', type: 'symlink', linkname: 'l' }, { name: 'l/x', body: 'x' }], { refused: true }],
  ];
  for (const [name, entries, want] of cases) {
    test(name, async () => {
      const canary = join(base, 'canary');
      await mkdir(canary);
      await writeFile(join(canary, 'secret'), 'host data');
      const { utimes } = await import('node:fs/promises');
      await utimes(canary, new Date(1_000_000_000_000), new Date(1_000_000_000_000));
      const before = await stat(canary);
      const fill = (es: Entry[]) => es.map((e) => ({ ...e, linkname: e.linkname?.replace('CANARY', canary) }));
      const lowers = want.lowers ? [await applyTo('lower', fill(want.lowers))] : [];
      const dir = join(base, 'root');
      await mkdir(dir);
      const err = await applyLayer(layer(fill(entries)), dir, { lowerDirs: lowers }).then(() => undefined, (e) => e);
      if (want.refused) expect(err).toBeInstanceOf(Error);
      else {
        expect(err).toBeUndefined();
        expect(await lstat(join(dir, want.inside!.replace('CANARY', canary.slice(1))))).toBeDefined();
      }
      expect(await readdir(canary)).toEqual(['secret']);
      expect(await readFile(join(canary, 'secret'), 'utf8')).toBe('host data');
      const after = await stat(canary);
      expect(after.mtimeMs).toBe(before.mtimeMs);
      expect((await stat(join(canary, 'secret'))).nlink).toBe(1);
      expect(await lstat('/canary-abs').catch(() => undefined)).toBeUndefined();
    });
  }

  test('a parent missing from the layer takes the lower layer\'s metadata (overlay copy-up)', async () => {
    const lower = await applyTo('lower', [{ name: 'opt/', type: 'directory', mode: 0o750, uid: 7 }]);
    const dir = await applyTo('upper', [{ name: 'opt/new', body: 'n' }], [lower]);
    const st = await stat(join(dir, 'opt'));
    expect(st.mode & 0o7777).toBe(0o750);
    expect(st.uid).toBe(7);
    expect(st.mtimeMs).toBe(1_700_000_000_000);
  });

  test('a hard link into a lower layer copies the file, with its metadata', async () => {
    const lower = await applyTo('lower', [{ name: 'bin/', type: 'directory' }, { name: 'bin/tool', body: 'tool', mode: 0o4755, uid: 3 }]);
    const dir = await applyTo('upper', [{ name: 'bin2/', type: 'directory' }, { name: 'bin2/tool', type: 'link', linkname: 'bin/tool' }], [lower]);
    const st = await stat(join(dir, 'bin2/tool'));
    expect(await readFile(join(dir, 'bin2/tool'), 'utf8')).toBe('tool');
    expect(st.mode & 0o7777).toBe(0o4755);
    expect(st.uid).toBe(3);
  });
});
