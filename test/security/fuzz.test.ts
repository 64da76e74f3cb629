/**
 * The Dockerfile fuzzer: 2,000 seeded mutations of the repository's own Dockerfiles (KILN_FUZZ_SEED,
 * KILN_FUZZ_COUNT change them), each parsed, linted and converted as a build does (fuzz/fuzz-runner.ts,
 * in a child process so a hang is seen and killed). Every input must end by itself, in a success or a
 * KilnError with a located message (file:line; a few whole-file errors have no line), never a JavaScript
 * error, an internal error or a hang. Every 40th input is also run through dist/kiln: exit 0, 1 or 2, no
 * signal, no stack trace.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { runKiln, repoRoot, tempStateDir } from '../helpers/kiln.ts';
import { withBusyboxRegistry, type BusyboxRegistry } from '../helpers/busybox-image.ts';
import { makeTempDir, removeAll } from '../../src/util/fs.ts';
import { CRASH_SIGNS } from './helpers/clean-failure.ts';
import { useHostGuard } from './helpers/host-guard.ts';

const SEED = Number(process.env.KILN_FUZZ_SEED ?? 20261203);
const COUNT = Number(process.env.KILN_FUZZ_COUNT ?? 2000);
/** No input may take this long (the slowest seen: well under a second). */
const HANG_MS = 10_000;
/** Errors about the whole file, which have no line to point at. */
const FILE_LEVEL = [/dockerfile contains no stages to build/, /the Dockerfile cannot be empty/, /file with no instructions/];

let reg: BusyboxRegistry;
let work: string;
beforeAll(async () => {
  reg = await withBusyboxRegistry();
  work = await makeTempDir('kiln-fuzz-');
});
afterAll(async () => {
  await reg?.stop();
  if (work) await removeAll(work);
});

interface Line {
  i: number;
  ms: number;
  code: number;
  kilnError?: boolean;
  kind?: string;
  located?: boolean;
  jsError?: string;
  message?: string;
  printed?: string;
  dockerfile?: string;
}

function runFuzzer(): Promise<{ lines: Line[]; hang?: number; exit: number | null; stderr: string; seconds: number }> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [join(repoRoot, 'test/security/fuzz/fuzz-runner.ts'), String(SEED), String(COUNT), reg.ref, work], { stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: Line[] = [];
    let buf = '';
    let stderr = '';
    let hang: number | undefined;
    let timer = setTimeout(onHang, HANG_MS);
    function onHang() {
      hang = lines.length; // the input after the last one reported
      child.kill('SIGKILL');
    }
    child.stdout.on('data', (c: Buffer) => {
      buf += c.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        lines.push(JSON.parse(buf.slice(0, nl)) as Line);
        buf = buf.slice(nl + 1);
        clearTimeout(timer);
        timer = setTimeout(onHang, HANG_MS);
      }
    });
    child.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
    child.on('close', (exit) => {
      clearTimeout(timer);
      resolve({ lines, hang, exit, stderr, seconds: (performance.now() - t0) / 1000 });
    });
  });
}

/** The host is checked after every test (useHostGuard). */
useHostGuard();

describe('Dockerfile fuzzer', () => {
  test(`${COUNT} mutated Dockerfiles (seed ${SEED}) end cleanly`, async () => {
    const r = await runFuzzer();
    const bad = r.lines.filter((l) => l.code !== 0 && (l.jsError || !l.kilnError || l.kind === 'internal' || (!l.located && !FILE_LEVEL.some((re) => re.test(l.message ?? ''))) || CRASH_SIGNS.test(l.printed ?? '')));
    const codes = r.lines.reduce<Record<number, number>>((a, l) => ({ ...a, [l.code]: (a[l.code] ?? 0) + 1 }), {});
    const slowest = Math.max(...r.lines.map((l) => l.ms));
    console.log(`fuzz: ${r.lines.length} inputs in ${r.seconds.toFixed(1)} s (slowest ${slowest} ms), exit codes ${JSON.stringify(codes)}, bad ${bad.length}, hang ${r.hang ?? 'none'}`);
    for (const b of bad.slice(0, 5)) console.error(`input ${b.i}: ${b.jsError ?? b.message}\n${b.printed}\n--- Dockerfile ---\n${b.dockerfile?.slice(0, 1500)}`);
    if (r.hang !== undefined || r.exit !== 0) console.error(`fuzzer stopped at input ${r.hang}: exit ${r.exit}\n${r.stderr}`);
    expect(r.hang).toBeUndefined();
    expect(r.exit).toBe(0);
    expect(r.lines.length).toBe(COUNT);
    expect(bad).toEqual([]);
    for (const c of Object.keys(codes).map(Number)) expect([0, 1, 2]).toContain(c);
  }, 300_000);

  test('a sample of them through dist/kiln: exit 0, 1 or 2, never a signal or a stack trace', async () => {
    const state = await tempStateDir();
    try {
      const samples = readdirSync(join(work, 'sample'));
      expect(samples.length).toBeGreaterThan(10);
      for (const s of samples) {
        const r = await runKiln(['debug', 'llb', join(work, 'sample', s)], { root: state.root });
        if (![0, 1, 2].includes(r.code) || CRASH_SIGNS.test(r.stderr)) console.error(`sample ${s}: exit ${r.code}\n${r.stderr.slice(0, 2000)}`);
        expect([0, 1, 2]).toContain(r.code);
        expect(r.stderr).not.toMatch(CRASH_SIGNS);
      }
    } finally {
      await state.cleanup();
    }
  }, 300_000);
});
