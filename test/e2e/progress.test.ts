/** What people see: the tty view under a pseudo-terminal (script), and rawjson validated by a schema. */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as v from 'valibot';
import { withBusyboxRegistry, type BusyboxRegistry } from '../helpers/busybox-image.ts';
import { kilnBin, makeContext, runKiln, tempStateDir } from '../helpers/kiln.ts';

let reg: BusyboxRegistry;
let state: Awaited<ReturnType<typeof tempStateDir>>;
let ctx: Awaited<ReturnType<typeof makeContext>>;
beforeAll(async () => {
  reg = await withBusyboxRegistry();
  state = await tempStateDir();
  ctx = await makeContext({ Dockerfile: `FROM ${reg.ref}\nRUN for i in 1 2 3; do echo slow-line-$i; sleep 0.4; done\nCOPY . /src\n` });
});
afterAll(async () => {
  await reg.stop();
  await ctx.cleanup();
  await state.cleanup();
});

const Event = v.variant('type', [
  v.object({ type: v.literal('vertex'), digest: v.string(), name: v.string(), status: v.picklist(['started', 'cached', 'completed', 'error']), time: v.number(), error: v.optional(v.string()), reason: v.optional(v.string()) }),
  v.object({ type: v.literal('log'), digest: v.string(), stream: v.picklist(['stdout', 'stderr']), data: v.string(), time: v.number() }),
  v.object({ type: v.picklist(['warning', 'info']), message: v.string(), time: v.number() }),
]);

describe('progress', () => {
  test('tty: a live view with header, steps, and a slow step\'s output while it runs', async () => {
    const transcript = join(state.root, 'tty.out');
    const r = spawnSync('script', ['-qfec', `${kilnBin} build --no-cache ${ctx.dir}`, transcript], { encoding: 'utf8', env: { ...process.env, KILN_ROOT: state.root, TERM: 'xterm' } });
    expect(r.status).toBe(0);
    const raw = await readFile(transcript, 'utf8');
    expect(raw).toMatch(/\[\+\] Building [\d.]+s \(\d+\/\d+\)/);
    expect(raw).toContain('FINISHED');
    expect(raw).toContain('=> [2/3] RUN for i in 1 2 3');
    // Live: a frame showed the first line of output before the last one was printed.
    const first = raw.indexOf('=> => slow-line-1');
    const last = raw.indexOf('slow-line-3');
    expect(first).toBeGreaterThan(-1);
    expect(first).toBeLessThan(last);
    expect(raw).toContain('\x1b[2K'); // redraws in place
  });

  test('rawjson: one valid event per line', async () => {
    const r = await runKiln(['build', '--progress=rawjson', ctx.dir], { root: state.root });
    expect(r.code).toBe(0);
    const events = r.stderr.trim().split('\n').map((l) => v.parse(Event, JSON.parse(l)));
    expect(events.filter((e) => e.type === 'vertex' && e.status === 'cached').length).toBeGreaterThanOrEqual(3);
  });
});
