/** What people see: the tty view under a pseudo-terminal (script), and rawjson validated by a schema. */
import { describe, expect, test } from 'bun:test';
import { spawn, spawnSync } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import * as v from 'valibot';
import { useBuildFixture } from '../helpers/build-fixture.ts';
import { kilnBin, makeContext, runKiln, tempStateDir } from '../helpers/kiln.ts';

const fx = useBuildFixture((ref) => ({ Dockerfile: `FROM ${ref}\nRUN for i in 1 2 3; do echo slow-line-$i; sleep 0.4; done\nCOPY . /src\n` }));

/** The rawjson schema (docs/progress.md), strict: an unknown field fails. */
const Event = v.variant('type', [
  v.strictObject({ type: v.literal('vertex'), digest: v.string(), name: v.string(), status: v.picklist(['started', 'cached', 'completed', 'error']), time: v.number(), error: v.optional(v.string()), reason: v.optional(v.string()) }),
  v.strictObject({ type: v.literal('log'), digest: v.string(), stream: v.picklist(['stdout', 'stderr']), data: v.string(), time: v.number() }),
  v.strictObject({ type: v.picklist(['warning', 'info']), message: v.string(), time: v.number() }),
  v.strictObject({ type: v.literal('bytes'), digest: v.string(), id: v.string(), name: v.string(), current: v.number(), total: v.optional(v.number()), elapsed: v.number(), done: v.optional(v.boolean()), time: v.number() }),
  v.strictObject({
    type: v.literal('summary'),
    seconds: v.number(),
    ran: v.number(),
    cached: v.number(),
    warnings: v.number(),
    outputs: v.array(v.strictObject({ kind: v.string(), dest: v.optional(v.string()), digest: v.optional(v.string()) })),
    time: v.number(),
  }),
]);

describe('progress', () => {
  test('tty: a live view with header, steps, and a slow step\'s output while it runs', async () => {
    const transcript = join(fx.state.root, 'tty.out');
    const r = spawnSync('script', ['-qfec', `${kilnBin} build --no-cache ${fx.ctx.dir}`, transcript], { encoding: 'utf8', env: { ...process.env, KILN_ROOT: fx.state.root, TERM: 'xterm' } });
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
    expect(raw).toMatch(/\x1b\[3\dm/); // colored
    // NO_COLOR: the same view without colors.
    const plainTranscript = join(fx.state.root, 'tty-nocolor.out');
    const n = spawnSync('script', ['-qfec', `${kilnBin} build ${fx.ctx.dir}`, plainTranscript], { encoding: 'utf8', env: { ...process.env, KILN_ROOT: fx.state.root, TERM: 'xterm', NO_COLOR: '1' } });
    expect(n.status).toBe(0);
    const noColor = await readFile(plainTranscript, 'utf8');
    expect(noColor).toContain('FINISHED');
    expect(noColor).not.toMatch(/\x1b\[3\dm/);
    // A narrow terminal: no line of the view is wider than it (a wrapped line would break the redraw).
    const narrowTranscript = join(fx.state.root, 'tty-narrow.out');
    const w = spawnSync('script', ['-qfec', `stty cols 30; ${kilnBin} build --no-cache ${fx.ctx.dir}`, narrowTranscript], { encoding: 'utf8', env: { ...process.env, KILN_ROOT: fx.state.root, TERM: 'xterm', NO_COLOR: '1' } });
    expect(w.status).toBe(0);
    const narrow = (await readFile(narrowTranscript, 'utf8')).split(/\r?\n/).map((l) => l.replace(/\x1b\[[0-9;]*[A-Za-z]/g, ''));
    const view = narrow.filter((l) => l.startsWith('[+]') || l.startsWith(' =>'));
    expect(view.length).toBeGreaterThan(3);
    for (const l of view) expect([...l].length).toBeLessThanOrEqual(30);
  }, 30_000);

  test('rawjson: one valid event per line: steps, transfers (a pull, an export) and the summary last', async () => {
    const fresh = await tempStateDir();
    try {
      const oci = join(fresh.root, 'out.tar');
      const r = await runKiln(['build', '--progress=rawjson', '-o', `type=oci,dest=${oci}`, fx.ctx.dir], { root: fresh.root });
      expect(r.code).toBe(0);
      const events = r.stderr.trim().split('\n').map((l) => v.parse(Event, JSON.parse(l)));
      // The base image's layer, pulled within its step, ends with its full size.
      const from = events.find((e) => e.type === 'vertex' && e.name.startsWith('[1/3] FROM'));
      const pulled = events.filter((e) => e.type === 'bytes' && e.id.startsWith('pull ') && e.done);
      expect(pulled.length).toBeGreaterThan(0);
      for (const p of pulled) if (p.type === 'bytes') expect([p.digest, p.current]).toEqual([from!.type === 'vertex' ? from!.digest : '', p.total!]);
      // The export's bytes are the build's own (no step), and its total is the file written.
      const written = events.find((e) => e.type === 'bytes' && e.id.startsWith('export oci') && e.done);
      expect(written?.type === 'bytes' && written.digest).toBe('');
      expect(written?.type === 'bytes' && written.current).toBe((await stat(oci)).size);
      const last = events.at(-1)!;
      expect(last.type).toBe('summary');
      if (last.type === 'summary') {
        expect(last.ran).toBeGreaterThanOrEqual(2);
        expect(last.outputs).toEqual([{ kind: 'oci', dest: oci, digest: expect.stringMatching(/^sha256:/) }]);
      }
      const again = await runKiln(['build', '--progress=rawjson', fx.ctx.dir], { root: fresh.root });
      const cachedEvents = again.stderr.trim().split('\n').map((l) => v.parse(Event, JSON.parse(l)));
      expect(cachedEvents.filter((e) => e.type === 'vertex' && e.status === 'cached').length).toBeGreaterThanOrEqual(3);
    } finally {
      await fresh.cleanup();
    }
  }, 30_000);

  test('plain: a pull as byte lines of its step, the export as a step of its own, the summary at the end', async () => {
    const fresh = await tempStateDir();
    try {
      const r = await runKiln(['build', '--progress=plain', '-o', `type=tar,dest=${join(fresh.root, 'fs.tar')}`, fx.ctx.dir], { root: fresh.root });
      expect(r.code).toBe(0);
      const from = /^#(\d+) \[1\/3\] FROM /m.exec(r.stderr)![1];
      expect(r.stderr).toMatch(new RegExp(`^#${from} pulling sha256:[0-9a-f]{12} [\\d.]+[kM]?B done$`, 'm'));
      // The context: read in place; what its checksum read is its "transfer".
      expect(r.stderr).toMatch(/^#\d+ transferring context: [\d.]+k?B done$/m);
      const tar = /^#(\d+) writing tar .*fs\.tar$/m.exec(r.stderr)![1];
      expect(r.stderr).toMatch(new RegExp(`^#${tar} [\\d.]+[kM]?B done\n#${tar} DONE [\\d.]+s$`, 'm'));
      expect(r.stderr).toMatch(/^done in [\d.]+s: \d+ steps run, \d+ cached, 0 warnings\n  tar .*fs\.tar\n/m);
    } finally {
      await fresh.cleanup();
    }
  }, 30_000);

  test('Ctrl-C cancels: exit 130, "build canceled", nothing left running, the next build works', async () => {
    const slow = await makeContext({ Dockerfile: `FROM ${fx.reg.ref}\nRUN echo started-sleeping && sleep 60\n` });
    try {
      const child = spawn(kilnBin, ['build', '--progress=plain', '--no-cache', slow.dir], { env: { ...process.env, KILN_ROOT: fx.state.root } });
      let err = '';
      let sent = false;
      const code = await new Promise<number | null>((resolve) => {
        child.stderr.on('data', (c: Buffer) => {
          err += c.toString();
          // Once the step's own output shows it runs (one Ctrl-C: a second one ends kiln at once).
          if (!sent && /^#\d+ [\d.]+ started-sleeping$/m.test(err)) {
            sent = true;
            child.kill('SIGINT');
          }
        });
        child.on('exit', (c) => resolve(c));
      });
      expect(code).toBe(130);
      expect(err).toContain('build canceled');
      expect(spawnSync('runc', ['list', '-q'], { encoding: 'utf8' }).stdout.trim()).toBe('');
      const again = await runKiln(['build', '--progress=plain', fx.ctx.dir], { root: fx.state.root });
      expect(again.code).toBe(0);
    } finally {
      await slow.cleanup();
    }
  }, 60_000);
});
