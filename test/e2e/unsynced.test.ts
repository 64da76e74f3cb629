/**
 * Steps write their layers without a sync per step (volatile overlays); a build syncs once at
 * its end. A power cut before that sync must never leave a record whose files may be missing:
 * the marker a build leaves while it has unsynced snapshots tells the next kiln what to drop.
 */
import { describe, expect, test } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { useBuildFixture } from '../helpers/build-fixture.ts';
import { runKiln } from '../helpers/kiln.ts';
import { openDb } from '../../src/store/db.ts';
import { stateLayout } from '../../src/store/state-dir.ts';
import { bootId, recoverUnsynced } from '../../src/store/unsynced.ts';

// The RUN fails unless its root is a volatile overlay (the option shows in its mountinfo).
const fx = useBuildFixture((ref) => ({ Dockerfile: `FROM ${ref}\nRUN grep ' / ' /proc/self/mountinfo | grep -q volatile && echo v > /v\nCOPY f /f\n`, f: 'f\n' }));

const build = () => runKiln(['build', '--progress=plain', fx.ctx.dir], { root: fx.state.root });
const ran = (s: string) => Number(/(\d+) steps run/.exec(s)?.[1]);
const markers = async () => (await readdir(join(fx.state.root, 'run'))).filter((n) => n.startsWith('unsynced-'));
/** A pid no process has (a child that has exited). */
const deadPid = () => spawnSync('true').pid!;

describe('one sync per build', () => {
  test('steps run on volatile overlays and a finished build leaves no marker', async () => {
    const r = await build();
    expect(ran(r.stderr)).toBe(3); // FROM, RUN, COPY
    expect(r.code).toBe(0);
    expect(await markers()).toEqual([]);
  });

  test("a dead build's marker from this boot is settled by a sync: nothing is dropped", async () => {
    await writeFile(join(fx.state.root, 'run', `unsynced-${deadPid()}`), `${await bootId()} ${Date.now() - 60_000}\n`);
    const r = await build();
    expect(r.code).toBe(0);
    expect(ran(r.stderr)).toBe(0);
    expect(await markers()).toEqual([]);
  });

  test('a marker of a build cut by a power loss drops what it recorded since; the next build runs the steps again', async () => {
    const layout = stateLayout(fx.state.root);
    const before = Date.now() - 60 * 60_000; // earlier than every record of this state dir
    await writeFile(join(layout.run, `unsynced-${deadPid()}`), `an-earlier-boot ${before}\n`);
    const db = openDb(layout.db);
    try {
      const snaps = (db.prepare('SELECT count(*) AS n FROM snapshots').get() as { n: number }).n;
      expect(snaps).toBeGreaterThan(0);
      // As after a reboot: this boot began now, so everything recorded before it is suspect.
      expect(await recoverUnsynced(layout, db, { id: 'this-boot', startedAt: Date.now() })).toBeGreaterThan(0);
      expect((db.prepare('SELECT count(*) AS n FROM snapshots').get() as { n: number }).n).toBe(0);
      expect((db.prepare('SELECT count(*) AS n FROM cache WHERE snapshot IS NOT NULL').get() as { n: number }).n).toBe(0);
    } finally {
      db.close();
    }
    expect(await markers()).toEqual([]);
    expect((await readdir(layout.snapshots)).filter((n) => /^[0-9a-f]{12}$/.test(n))).toEqual([]);
    const r = await build();
    expect(r.code).toBe(0);
    expect(ran(r.stderr)).toBe(3); // FROM, RUN, COPY
  });

  test("a live process's marker is left alone", async () => {
    const layout = stateLayout(fx.state.root);
    const mine = join(layout.run, `unsynced-${process.pid}`);
    await writeFile(mine, `${await bootId()} ${Date.now()}\n`);
    const db = openDb(layout.db);
    try {
      expect(await recoverUnsynced(layout, db)).toBe(0);
    } finally {
      db.close();
    }
    expect(await markers()).toEqual([`unsynced-${process.pid}`]);
    spawnSync('rm', ['-f', mine]);
  });

  test('a hostile marker (a symlink out, a directory, garbage, a huge time) is removed; nothing is read through it or dropped', async () => {
    const layout = stateLayout(fx.state.root);
    const outside = join(fx.state.root, '..', `outside-${process.pid}`);
    await writeFile(outside, `an-earlier-boot 0\n`);
    const { mkdir, symlink, readFile } = await import('node:fs/promises');
    await symlink(outside, join(layout.run, `unsynced-${deadPid()}`));
    await mkdir(join(layout.run, `unsynced-${deadPid()}`));
    await writeFile(join(layout.run, `unsynced-${deadPid()}`), 'x'.repeat(1 << 20));
    await writeFile(join(layout.run, `unsynced-${deadPid()}`), `an-earlier-boot 1e400\n`);
    const db = openDb(layout.db);
    try {
      const snaps = (db.prepare('SELECT count(*) AS n FROM snapshots').get() as { n: number }).n;
      expect(await recoverUnsynced(layout, db, { id: 'this-boot', startedAt: Date.now() })).toBe(0);
      expect((db.prepare('SELECT count(*) AS n FROM snapshots').get() as { n: number }).n).toBe(snaps);
    } finally {
      db.close();
    }
    expect(await markers()).toEqual([]);
    expect(await readFile(outside, 'utf8')).toBe('an-earlier-boot 0\n');
    spawnSync('rm', ['-f', outside]);
  });
});
