/**
 * Registries, http servers and git servers that misbehave, in front of the real test
 * registry (a fault-injecting proxy): stalls mid-blob, no headers ever, trickles, a stalled
 * upload, resets, wrong bytes, 401 and 5xx. With short limits in kiln.toml ([network]), each
 * build ends by itself well inside (attempts x limit + backoff): retried and successful when
 * the fault passes, else a clear error naming the host and what was being fetched. A signal
 * still wins during a stall.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'bun:test';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeContext, runKiln, tempStateDir } from '../helpers/kiln.ts';
import { withBusyboxRegistry, type BusyboxRegistry } from '../helpers/busybox-image.ts';
import { startFaultProxy, type Fault, type FaultProxy } from '../registry/fault-proxy.ts';
import { makeTempDir, removeAll } from '../../src/util/fs.ts';
import { CRASH_SIGNS } from './helpers/clean-failure.ts';
import { useHostGuard } from './helpers/host-guard.ts';
import { runUntilSignalled } from './helpers/signalled-run.ts';
import { startStallingServers, type StallingServers } from './helpers/stalling-servers.ts';

let reg: BusyboxRegistry;
let proxy: FaultProxy;
let dir: string;
let config: string;
let stalling: StallingServers;
const IDLE_S = 1;
const ATTEMPTS = 2;

beforeAll(async () => {
  reg = await withBusyboxRegistry();
  proxy = await startFaultProxy(reg.registry.host);
  dir = await makeTempDir('kiln-netfault-');
  config = join(dir, 'kiln.toml');
  await writeFile(config, `[network]\nidle-timeout = "${IDLE_S}s"\nlow-speed-limit = "50KB"\nlow-speed-time = "2s"\nattempts = ${ATTEMPTS}\n`);
  stalling = await startStallingServers();
});
afterAll(async () => {
  await stalling?.close();
  await proxy?.close();
  await reg?.stop();
  if (dir) await removeAll(dir);
});
beforeEach(() => {
  proxy.faults.length = 0;
});

async function build(dockerfile: string, extra: string[] = []) {
  const state = await tempStateDir();
  const ctx = await makeContext({ Dockerfile: dockerfile });
  const t0 = performance.now();
  try {
    const r = await runKiln(['build', '--progress=plain', '--config', config, ...extra, ctx.dir], { root: state.root });
    return { ...r, seconds: (performance.now() - t0) / 1000 };
  } finally {
    await ctx.cleanup();
    await state.cleanup();
  }
}

/** Each stall may cost the limit per attempt plus backoff, and a pull has a few requests: a generous bound. */
const BOUND_S = 20;

interface Case {
  name: string;
  faults: Fault[];
  /** Succeeds (the fault passes), or fails saying this. */
  error?: RegExp;
  push?: boolean;
}

const blob = /\/blobs\/sha256:/;
const cases: Case[] = [
  { name: 'a blob that stops after 100 bytes', faults: [{ match: blob, stallAfter: 100 }], error: /failed to fetch blob sha256:[0-9a-f]{64} .*registry 127\.0\.0\.1:\d+ stalled: no data for/ },
  { name: 'a manifest request answered with nothing, ever', faults: [{ match: /\/manifests\//, silent: true }], error: /127\.0\.0\.1:\d+ stalled: no data for/ },
  { name: 'a blob trickled 64 bytes every 50 ms', faults: [{ match: blob, trickle: { bytes: 64, everyMs: 50 } }], error: /stalled: \d+ bytes\/s for .* below the floor/ },
  { name: 'a blob that stalls once, then comes whole', faults: [{ match: blob, stallAfter: 100, times: 1 }] },
  { name: 'a connection reset once', faults: [{ match: blob, reset: true, times: 1 }] },
  { name: '503 twice on the manifest', faults: [{ match: /\/manifests\//, status: 503, times: 1 }] },
  { name: 'a blob with wrong bytes', faults: [{ match: blob, corruptFrom: 10 }], error: /digest mismatch/ },
  { name: '401 on every request', faults: [{ match: /\/v2\//, status: 401 }], error: /failed to resolve .*\(HTTP 401\)/ },
  { name: 'a push whose upload the registry stops reading', faults: [{ match: /\/blobs\/uploads\//, stallUpload: true }], error: /stalled: no data for/, push: true },
];

/** The host is checked after every test (useHostGuard). */
useHostGuard();

describe('registries that stall or lie', () => {
  for (const c of cases) {
    test(c.name, async () => {
      proxy.faults.push(...c.faults);
      const base = `${proxy.host}/busybox:latest`;
      const dockerfile = c.push ? `FROM ${reg.ref}\nRUN echo pushed > /p\n` : `FROM ${base}\nRUN true\n`;
      const r = await build(dockerfile, c.push ? ['-o', `type=image,name=${proxy.host}/pushed:1,push=true`] : []);
      console.log(`${c.name}: exit ${r.code} in ${r.seconds.toFixed(1)} s`);
      expect(r.stderr).not.toMatch(CRASH_SIGNS);
      if (c.error) {
        if (r.code !== 1 || !c.error.test(r.stderr)) console.error(r.stderr.slice(-2000));
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(c.error);
      } else {
        if (r.code !== 0) console.error(r.stderr.slice(-2000));
        expect(r.code).toBe(0);
      }
      expect(r.seconds).toBeLessThan(BOUND_S);
    }, 60_000);
  }

  test('ADD of a URL whose server stalls', async () => {
    const r = await build(`FROM ${reg.ref}\nADD http://127.0.0.1:${stalling.httpPort}/file /f\n`);
    console.log(`http stall: exit ${r.code} in ${r.seconds.toFixed(1)} s`);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot download http:\/\/127\.0\.0\.1:\d+\/file: 127\.0\.0\.1:\d+ stalled/);
    expect(r.stderr).not.toMatch(CRASH_SIGNS);
    expect(r.seconds).toBeLessThan(BOUND_S);
  }, 60_000);

  test('ADD of a git repository whose server never speaks', async () => {
    const r = await build(`FROM ${reg.ref}\nADD git://127.0.0.1:${stalling.silentPort}/repo.git /src\n`);
    console.log(`git stall: exit ${r.code} in ${r.seconds.toFixed(1)} s`);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/git ls-remote of git:\/\/127\.0\.0\.1:\d+\/repo\.git: 127\.0\.0\.1:\d+ stalled/);
    expect(r.stderr).not.toMatch(CRASH_SIGNS);
    expect(r.seconds).toBeLessThan(BOUND_S);
  }, 60_000);

  test('SIGTERM during a stalled pull ends the build within 2 s', async () => {
    await writeFile(join(dir, 'slow.toml'), '[network]\nidle-timeout = "60s"\n');
    proxy.faults.push({ match: blob, stallAfter: 100 });
    const state = await tempStateDir();
    const ctx = await makeContext({ Dockerfile: `FROM ${proxy.host}/busybox:latest\nRUN true\n` });
    try {
      // The image's config blob stalls while FROM resolves: no step has printed yet.
      const r = await runUntilSignalled(['build', '--progress=plain', '--config', join(dir, 'slow.toml'), ctx.dir], { root: state.root, sig: 'SIGTERM', delayMs: 1500 });
      console.log(`SIGTERM during a stall: exit ${r.code} ${Math.round(r.afterSignalMs)} ms after the signal`);
      expect(r.code).toBe(143);
      expect(r.afterSignalMs).toBeLessThan(2000);
    } finally {
      await ctx.cleanup();
      await state.cleanup();
    }
  }, 60_000);
});
