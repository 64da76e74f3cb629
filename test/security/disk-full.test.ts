/**
 * A RUN step that fills the state dir's disk: the build fails with a clear error (never a raw
 * SQLite one), and afterwards every command still works: doctor --store, du, prune --all
 * (which frees the space, through the reserve kiln keeps), and the next build. The state dir
 * lives on a small loop-mounted ext4 so that "full" comes quickly.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { makeContext, runKiln } from '../helpers/kiln.ts';
import { withBusyboxRegistry, type BusyboxRegistry } from '../helpers/busybox-image.ts';
import { makeTempDir, removeAll } from '../../src/util/fs.ts';
import { CRASH_SIGNS } from './helpers/clean-failure.ts';
import { useHostGuard } from './helpers/host-guard.ts';

let reg: BusyboxRegistry;
let dir: string;
let mnt: string;
beforeAll(async () => {
  reg = await withBusyboxRegistry();
  dir = await makeTempDir('kiln-diskfull-');
  mnt = join(dir, 'mnt');
  await mkdir(mnt);
  const img = join(dir, 'disk.img');
  const sh = (cmd: string, args: string[]) => {
    const r = spawnSync(cmd, args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  };
  sh('truncate', ['-s', '80M', img]);
  sh('mkfs.ext4', ['-q', '-F', '-m', '0', img]);
  sh('mount', ['-o', 'loop', img, mnt]);
});
afterAll(async () => {
  await reg?.stop();
  if (mnt) spawnSync('umount', ['-l', mnt]);
  if (dir) await removeAll(dir);
});

/** Writes `path` until the disk is full. */
function fillRest(path: string): void {
  const fd = openSync(path, 'w');
  const buf = Buffer.alloc(64 << 10);
  try {
    for (;;) writeSync(fd, buf);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd);
  }
  // the last few blocks, one at a time
  const small = Buffer.alloc(1024);
  const fd2 = openSync(path, 'a');
  try {
    for (;;) writeSync(fd2, small);
  } catch {
    // full
  } finally {
    closeSync(fd2);
  }
}

const freeMiB = () => {
  const s = statfsSync(mnt);
  return (s.bavail * s.bsize) / 2 ** 20;
};

/** The host is checked after every test (useHostGuard). */
useHostGuard();

describe('a full disk', () => {
  test('a RUN that fills the disk; then doctor, du, prune and the next build work', async () => {
    const root = join(mnt, 'state');
    const fill = await makeContext({ Dockerfile: `FROM ${reg.ref}\nRUN dd if=/dev/zero of=/fill bs=1M 2>/dev/null; echo filled\nRUN echo next > /next\n` });
    try {
      const r = await runKiln(['build', '--progress=plain', fill.dir], { root });
      expect(r.stderr).not.toMatch(CRASH_SIGNS);
      expect(r.stderr).not.toMatch(/cannot rollback/);
      if (r.code !== 0) {
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(/no space left/i);
      }
      // Whatever the step left free, the disk is now full to the last block (as when a RUN's
      // output took it all): a host file eats the rest.
      fillRest(join(dir, 'mnt', 'filler'));
      expect(freeMiB()).toBeLessThan(0.1);
      // doctor runs and checks the store (it may well say that the disk is full: it is).
      const doctor = await runKiln(['doctor', '--store'], { root });
      expect(doctor.stdout).toMatch(/ok +store integrity: .*checks out/);
      expect(doctor.stdout + doctor.stderr).not.toMatch(CRASH_SIGNS);
      const du = await runKiln(['du'], { root });
      if (du.code !== 0) console.error(du.stderr);
      expect(du.code).toBe(0);
      const p = await runKiln(['prune', '--all'], { root });
      if (p.code !== 0) console.error(p.stderr);
      expect(p.code).toBe(0);
      expect(freeMiB()).toBeGreaterThan(40);
      rmSync(join(dir, 'mnt', 'filler'));
      const ok = await makeContext({ Dockerfile: `FROM ${reg.ref}\nRUN echo after > /after\n` });
      try {
        const next = await runKiln(['build', '--progress=plain', ok.dir], { root });
        if (next.code !== 0) console.error(next.stderr);
        expect(next.code).toBe(0);
      } finally {
        await ok.cleanup();
      }
    } finally {
      await fill.cleanup();
    }
  }, 120_000);

  test('a RUN that fails on ENOSPC names its step and shows its output', async () => {
    const root = join(mnt, 'state2');
    const ctx = await makeContext({ Dockerfile: `FROM ${reg.ref}\nRUN dd if=/dev/zero of=/fill bs=1M\n` });
    try {
      const r = await runKiln(['build', '--progress=plain', ctx.dir], { root });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/RUN dd if=\/dev\/zero/);
      expect(r.stderr).toMatch(/No space left on device/);
      expect(r.stderr).not.toMatch(CRASH_SIGNS);
      const p = await runKiln(['prune', '--all'], { root });
      expect(p.code).toBe(0);
    } finally {
      await ctx.cleanup();
    }
  }, 120_000);
});
