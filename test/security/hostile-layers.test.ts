/**
 * Hostile base images, served for real from the test registry and built FROM with every
 * rootfs output and an image output: each is refused with a clear error naming the layer
 * entry, or builds with everything inside the image's own root. Afterwards the host is as it
 * was (host-guard.ts: the canary directory the layers aim at, /etc/shadow, /etc/passwd, the
 * names in / and /etc) and no output holds a byte of the canary secret.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { makeContext, runKiln, tempStateDir } from '../helpers/kiln.ts';
import { startRegistry, type TestRegistry } from '../helpers/registry.ts';
import { searchBytes } from '../helpers/search-bytes.ts';
import { makeTempDir, removeAll } from '../../src/util/fs.ts';
import { hostGuard, type HostGuard } from './helpers/host-guard.ts';
import { pushHostileImage } from './helpers/push-image.ts';
import { tarBytes, type RawEntry } from './helpers/tar-bytes.ts';
import { expectCleanFailure } from './helpers/clean-failure.ts';

let registry: TestRegistry;
let state: Awaited<ReturnType<typeof tempStateDir>>;
let out: string;
let guard: HostGuard;
beforeAll(async () => {
  registry = await startRegistry();
  state = await tempStateDir();
  out = await makeTempDir('kiln-out-');
  guard = await hostGuard();
});
afterAll(async () => {
  await registry?.stop();
  await state?.cleanup();
  if (out) await removeAll(out);
  await guard?.cleanup();
});

/** The host's root file system device: a hostile layer's block device node for it must stay useless. */
function rootDevice(): { major: number; minor: number } {
  const dev = statSync('/').dev;
  return { major: Math.floor(dev / 256) & 0xfff, minor: (dev & 0xff) | ((dev >> 12) & ~0xff) };
}

type Layers = (c: string) => RawEntry[][];
interface Case {
  name: string;
  layers: Layers;
  /** Refused: the message says this. Else it builds. */
  refused?: RegExp;
  /** Shell run in the image (its output lands in /probe). */
  probe?: string;
}

const d = (name: string): RawEntry => ({ name, type: 'dir' });
const link = (name: string, linkname: string): RawEntry => ({ name, type: 'link', linkname });
const sym = (name: string, linkname: string): RawEntry => ({ name, type: 'symlink', linkname });
const file = (name: string, data = 'x'): RawEntry => ({ name, data });
const up = '../../../../../../../../../..';

const cases: Case[] = [
  { name: 'hard link through an absolute symlink (one layer)', layers: (c) => [[sym('e', c), link('hl', 'e/secret')]], refused: /hard link .*does not exist/, probe: 'cat /hl' },
  { name: 'hard link through a symlink of a lower layer', layers: (c) => [[sym('e', c)], [link('hl', 'e/secret')]], refused: /hard link .*does not exist/ },
  { name: 'hard link through a climbing relative symlink', layers: (c) => [[sym('e', `${up}${c}`)], [link('hl', 'e/secret')]], refused: /hard link .*does not exist/ },
  { name: 'hard link straight out', layers: (c) => [[link('hl', `${up}${c}/secret`)]], refused: /escapes the root/ },
  { name: 'hard link to a directory', layers: () => [[d('dd/'), link('hl', 'dd')]], refused: /not a regular file/ },
  { name: 'hard link to a symlink to the host file', layers: (c) => [[sym('s', `${c}/secret`), link('hl', 's')]], probe: 'cat /hl' },
  { name: 'file written through an absolute symlink', layers: (c) => [[sym('e', c), file('e/evil', 'evil')]], probe: 'cat /e/evil' },
  { name: 'file written through a symlink of a lower layer', layers: (c) => [[sym('e', c)], [file('e/evil', 'evil')]], probe: 'cat /e/evil' },
  { name: 'whiteout through a symlink', layers: (c) => [[sym('e', c)], [file('e/.wh.secret', '')]] },
  { name: 'opaque directory through a symlink', layers: (c) => [[sym('e', c)], [file('e/.wh..wh..opq', '')]] },
  { name: 'directory replaced by a symlink before its time is set', layers: (c) => [[d('t/'), sym('t', c)]] },
  { name: 'whiteout of ..', layers: () => [[d('w/'), file('w/.wh...', '')]], refused: /whiteout of no file/ },
  { name: 'symlink loop with an entry through it', layers: () => [[sym('l', 'l'), file('l/x')]], refused: /too many levels of symbolic links/ },
  { name: 'duplicate entries (file, dir, file)', layers: () => [[file('dup', 'one'), d('dup/'), file('dup/in'), file('dup', 'three')]], probe: 'cat /dup' },
  { name: 'long names (PAX path, 300 bytes)', layers: () => [[file(`${'a'.repeat(120)}/${'b'.repeat(120)}/${'c'.repeat(60)}`, 'long')]], probe: 'find / -name "ccc*" | wc -l' },
  { name: 'a name component longer than NAME_MAX', layers: () => [[file('n'.repeat(300))]], refused: /cannot be extracted: ENAMETOOLONG/ },
  { name: 'GNU sparse entry', layers: () => [[{ name: 'sparse', type: 'S', data: 'x'.repeat(512) }]], refused: /tar entry type kiln does not extract/ },
  { name: 'PAX sparse file', layers: () => [[{ name: 'sparse', data: 'x', pax: { 'GNU.sparse.major': '1', 'GNU.sparse.minor': '0', 'GNU.sparse.name': 'sparse', 'GNU.sparse.realsize': '100000' } }]], refused: /sparse file/ },
  { name: 'overlay xattrs from PAX records (redirect, metacopy)', layers: () => [[{ name: 'r/', type: 'dir', pax: { 'SCHILY.xattr.trusted.overlay.redirect': '/etc', 'SCHILY.xattr.trusted.overlay.metacopy': '' } }]], probe: 'ls /r | wc -l' },
  { name: 'device nodes (the host disk, /dev/mem)', layers: () => [[{ name: 'disk', type: 'block', ...devOf(rootDevice()), mode: 0o666 }, { name: 'mem', type: 'char', devmajor: 1, devminor: 1, mode: 0o666 }]], probe: 'head -c 16 /disk | wc -c; head -c 16 /mem | wc -c' },
  { name: 'a size that lies (archive ends early)', layers: () => [[{ name: 'big', data: 'short', size: 100_000 }]], refused: /not a valid tar archive|layer/ },
  { name: 'garbage instead of a tar', layers: () => [[Buffer.from('this is not a tar archive at all\n'.repeat(40)) as unknown as RawEntry]], refused: /not a valid tar archive|layer/ },
];

function devOf(x: { major: number; minor: number }) {
  return { devmajor: x.major, devminor: x.minor };
}

function layerBytes(entries: RawEntry[]): Buffer {
  // A case may give raw bytes instead of entries (garbage).
  if (Buffer.isBuffer(entries[0])) return entries[0] as unknown as Buffer;
  return tarBytes(entries);
}

describe('hostile base images', () => {
  for (const [i, c] of cases.entries()) {
    test(c.name, async () => {
      const ref = await pushHostileImage(registry.url, `hostile${i}`, { layers: c.layers(guard.dir).map(layerBytes) });
      const ctx = await makeContext({ Dockerfile: `FROM ${ref}\nRUN (${c.probe ?? 'true'}) > /probe 2>&1 || true\n` });
      const dest = join(out, `case${i}`);
      try {
        const r = await runKiln(
          ['build', '--progress=plain', '-o', `type=tar,dest=${dest}.tar`, '-o', `type=local,dest=${dest}.dir`, '-o', `type=oci,dest=${dest}.oci.tar`, ctx.dir],
          { root: state.root },
        );
        if (c.refused) expectCleanFailure(r, c.refused);
        else {
          if (r.code !== 0) console.error(r.stderr);
          expect(r.code).toBe(0);
        }
        expect(guard.problems()).toEqual([]);
        const hits = await searchBytes([`${dest}.tar`, `${dest}.dir`, `${dest}.oci.tar`].filter((p) => exists(p)), [guard.secretText]);
        expect(hits).toEqual([]);
        if (c.name.startsWith('device nodes')) {
          const { readFile } = await import('node:fs/promises');
          // Neither node can be read inside the container (the devices cgroup allows no such device).
          expect((await readFile(join(`${dest}.dir`, 'probe'), 'utf8')).trim().split('\n').filter((l) => /^\d+$/.test(l))).toEqual(['0', '0']);
        }
      } finally {
        await ctx.cleanup();
      }
    });
  }

  test('what a layer brings (a setuid shell, a device node) is out of reach of the machine\'s other users', async () => {
    const ref = await pushHostileImage(registry.url, 'suid', {
      layers: [tarBytes([{ name: 'suid-sh', data: 'not really a shell', mode: 0o4755 }, { name: 'rootdisk', type: 'block', ...devOf(rootDevice()), mode: 0o666 }])],
    });
    const ctx = await makeContext({ Dockerfile: `FROM ${ref}\nRUN true\n` });
    try {
      const r = await runKiln(['build', '--progress=plain', ctx.dir], { root: state.root });
      expect(r.code).toBe(0);
      const { readdirSync } = await import('node:fs');
      const { spawnSync } = await import('node:child_process');
      const layer = readdirSync(join(state.root, 'snapshots')).map((d) => join(state.root, 'snapshots', d, 'fs')).find((d) => exists(join(d, 'rootdisk')));
      expect(layer).toBeDefined();
      // As nobody: neither the device nor the setuid file can be reached.
      for (const f of ['rootdisk', 'suid-sh']) {
        const p = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'head', '-c', '1', join(layer!, f)], { encoding: 'utf8' });
        expect(p.status).not.toBe(0);
        expect(p.stderr).toMatch(/Permission denied/);
      }
      for (const d of ['snapshots', 'content', 'run', 'mounts']) expect(statSync(join(state.root, d)).mode & 0o077).toBe(0);
      expect(statSync(join(state.root, 'kiln.db')).mode & 0o077).toBe(0);
    } finally {
      await ctx.cleanup();
    }
  });

  test('an image whose config lies about a layer diff id is refused, and a later FROM of the real one is not poisoned', async () => {
    const real = await pushHostileImage(registry.url, 'honest', { layers: [tarBytes([file('who', 'honest\n')])] });
    const liar = await pushHostileImage(registry.url, 'liar', {
      layers: [tarBytes([file('who', 'liar\n')])],
      // It claims the honest image's diff id for its own, different layer.
      diffIds: (ids) => [ids[0]!, honestDiffId],
    });
    const ctx = await makeContext({ Dockerfile: `FROM ${liar}\nRUN cat /who\n` });
    try {
      const r = await runKiln(['build', '--progress=plain', ctx.dir], { root: state.root });
      expectCleanFailure(r, /diff id|uncompressed/);
      const ok = await makeContext({ Dockerfile: `FROM ${real}\nRUN cp /who /seen\n` });
      try {
        const dest = join(out, 'honest-out');
        const r2 = await runKiln(['build', '--progress=plain', '-o', `type=local,dest=${dest}`, ok.dir], { root: state.root });
        expect(r2.code).toBe(0);
        const { readFile } = await import('node:fs/promises');
        expect(await readFile(join(dest, 'seen'), 'utf8')).toBe('honest\n');
      } finally {
        await ok.cleanup();
      }
      const doctor = await runKiln(['doctor', '--store'], { root: state.root });
      expect(doctor.code).toBe(0);
    } finally {
      await ctx.cleanup();
    }
  });
});

const honestDiffId = (await import('../../src/util/digest.ts')).sha256(tarBytes([file('who', 'honest\n')]));

function exists(p: string): boolean {
  try {
    statSync(p);
    return true;
  } catch {
    return false;
  }
}
