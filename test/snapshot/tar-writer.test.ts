/**
 * TarWriter writes the bytes tar-stream's pack writes for the same entries (so layer digests
 * made before it stay), for every header form: plain ustar, names split into prefix/name,
 * pax for non-ASCII or unsplittable names, long link targets and xattrs, values too big for
 * their fields, bodies small and larger than a chunk. GNU tar reads what it writes.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pack } from 'tar-stream';
import { TarWriter, type TarHeader } from '../../src/snapshot/tar-writer.ts';
import { makeTempDir, removeAll } from '../../src/util/fs.ts';

let dir: string;
beforeAll(async () => {
  dir = await makeTempDir('kiln-tarw-');
});
afterAll(async () => {
  await removeAll(dir);
});

/** What tar-stream makes of the entries (the type bits ride along in mode, as pack.ts passed them). */
async function viaTarStream(entries: { h: TarHeader; body?: Buffer }[]): Promise<Buffer> {
  const TYPE_BITS: Record<string, number> = { file: 0o100000, link: 0o100000, directory: 0o40000, symlink: 0o120000, 'character-device': 0o20000, 'block-device': 0o60000, fifo: 0o10000 };
  const p = pack();
  const parts: Buffer[] = [];
  p.on('data', (c) => {
    parts.push(c as Buffer);
  });
  const done = new Promise<void>((res) => p.on('end', () => res()));
  for (const { h, body } of entries) {
    const header = { ...h, mode: TYPE_BITS[h.type]! | (h.mode & 0o7777) };
    await new Promise<void>((res, rej) => {
      const cb = (err?: Error | null) => (err ? rej(err) : res());
      if (h.type === 'file') p.entry(header, body ?? Buffer.alloc(0), cb);
      else p.entry(header, cb);
    });
  }
  p.finalize();
  await done;
  return Buffer.concat(parts);
}

async function viaWriter(entries: { h: TarHeader; body?: Buffer }[]): Promise<Buffer> {
  const parts: Buffer[] = [];
  const w = new TarWriter((c) => {
    parts.push(Buffer.from(c));
  });
  for (const [i, { h, body }] of entries.entries()) {
    if (h.type !== 'file' || !body) {
      await w.add(h);
      continue;
    }
    const f = join(dir, `body${i}`);
    writeFileSync(f, body);
    const fd = openSync(f, 'r');
    try {
      await w.add({ ...h, size: body.length }, fd);
    } finally {
      closeSync(fd);
    }
  }
  await w.finish();
  return Buffer.concat(parts);
}

const base = { mode: 0o644, uid: 0, gid: 0, size: 0, mtime: new Date(1_700_000_000_000), uname: '', gname: '' };
const deep = `${'segment-of-a-path/'.repeat(8)}file.txt`; // 152 chars: prefix/name split
const cases: [string, { h: TarHeader; body?: Buffer }[]][] = [
  ['plain entries of every type', [
    { h: { ...base, name: 'etc/', type: 'directory', mode: 0o755 } },
    { h: { ...base, name: 'etc/passwd', type: 'file' }, body: Buffer.from('root:x:0:0::/root:/bin/sh\n') },
    { h: { ...base, name: 'bin/sh', type: 'symlink', linkname: 'busybox', mode: 0o777 } },
    { h: { ...base, name: 'bin/ash', type: 'link', linkname: 'bin/busybox' } },
    { h: { ...base, name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 } },
    { h: { ...base, name: 'dev/sda', type: 'block-device', devmajor: 8, devminor: 0 } },
    { h: { ...base, name: 'run/fifo', type: 'fifo' } },
    { h: { ...base, name: 'etc/.wh.gone', type: 'file', mode: 0 } },
    { h: { ...base, name: 'empty', type: 'file', mode: 0 }, body: Buffer.alloc(0) },
  ]],
  ['a name split into prefix and name', [{ h: { ...base, name: deep, type: 'file' }, body: Buffer.from('x') }]],
  ['a name that cannot be split (pax path)', [{ h: { ...base, name: 'n'.repeat(140), type: 'file' }, body: Buffer.from('y') }]],
  ['a non-ASCII name (pax path)', [{ h: { ...base, name: 'usr/share/ünïcødé/日本.txt', type: 'file' }, body: Buffer.from('z') }]],
  ['a long link target (pax linkpath)', [{ h: { ...base, name: 'l', type: 'symlink', linkname: `/${'t'.repeat(150)}` } }]],
  ['a short non-ASCII link target (ustar)', [{ h: { ...base, name: 'l', type: 'symlink', linkname: 'ziel-ä' } }]],
  ['extended attributes (pax records)', [
    { h: { ...base, name: 'bin/ping', type: 'file', pax: { 'SCHILY.xattr.security.capability': Buffer.from([1, 0, 0, 2, 0, 0x20, 0, 0, 0xff]).toString('latin1'), 'SCHILY.xattr.user.a': 'b' } }, body: Buffer.from('elf') },
    { h: { ...base, name: 'd/', type: 'directory', mode: 0o755, pax: { 'SCHILY.xattr.user.dir': 'v' } } },
    { h: { ...base, name: 'h', type: 'link', linkname: 'bin/ping', pax: { 'SCHILY.xattr.user.x': 'y' } } },
  ]],
  ['values too big for their fields', [
    { h: { ...base, name: 'big-ids', type: 'file', uid: 0o7777777, gid: 4_000_000_000 }, body: Buffer.from('i') },
    { h: { ...base, name: 'old', type: 'file', mtime: new Date(-86_400_000) }, body: Buffer.from('o') },
    { h: { ...base, name: 'far', type: 'file', mtime: new Date(99_999_999_999_000) }, body: Buffer.from('f') },
    { h: { ...base, name: 'setuid', type: 'file', mode: 0o104755 }, body: Buffer.from('s') },
  ]],
  ['bodies of every padding and bigger than a chunk', [
    ...[1, 511, 512, 513, 4096, 100_000].map((n, i) => ({ h: { ...base, name: `f${i}`, type: 'file' as const }, body: Buffer.alloc(n, i + 1) })),
    { h: { ...base, name: 'big', type: 'file' }, body: Buffer.alloc(3 * (1 << 20) + 77, 7) },
    { h: { ...base, name: 'after', type: 'file' }, body: Buffer.from('a') },
  ]],
];

describe('TarWriter', () => {
  for (const [name, entries] of cases) {
    test(`${name}: tar-stream's bytes`, async () => {
      const mine = await viaWriter(entries);
      const theirs = await viaTarStream(entries);
      expect(mine.length).toBe(theirs.length);
      expect(mine.equals(theirs)).toBe(true);
    });
  }

  // (A time before 1970 comes out as tar-stream writes it, '-' and all, which GNU tar refuses.)
  test('GNU tar lists what it writes', async () => {
    const out = join(dir, 'all.tar');
    writeFileSync(out, await viaWriter(cases.flatMap(([, e]) => e).filter((e) => e.h.type !== 'character-device' && e.h.type !== 'block-device' && e.h.mtime.getTime() >= 0)));
    const r = spawnSync('tar', ['-tf', out], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain(deep);
    expect(r.stdout).toContain('usr/share/ünïcødé/日本.txt');
    expect(r.stdout).toContain('n'.repeat(140));
  });

  test('a file shorter than its header says is an error, not a corrupt archive', async () => {
    const f = join(dir, 'short');
    writeFileSync(f, 'abc');
    const fd = openSync(f, 'r');
    try {
      const w = new TarWriter(() => {});
      await expect(w.add({ ...base, name: 'short', type: 'file', size: 10 }, fd)).rejects.toThrow(/shorter/);
    } finally {
      closeSync(fd);
    }
  });
});
