/**
 * Dockerfiles made to make kiln spin, and inputs that never end: each must finish by itself,
 * well inside its bound, with exit 0, or 1/2 and a located message. The bounds here only catch
 * a hang or a quadratic blow-up (10,000 ENV lines took 38 s before); `npm run bench` measures
 * the real figures (BENCH_ONLY=convert).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runKiln, tempStateDir } from '../helpers/kiln.ts';
import { makeTempDir, removeAll } from '../../src/util/fs.ts';
import { CRASH_SIGNS, expectCleanFailure } from './helpers/clean-failure.ts';
import { useHostGuard } from './helpers/host-guard.ts';

let dir: string;
let state: Awaited<ReturnType<typeof tempStateDir>>;
beforeAll(async () => {
  dir = await makeTempDir('kiln-limits-');
  state = await tempStateDir();
});
afterAll(async () => {
  await removeAll(dir);
  await state?.cleanup();
});

/** A context dir under the test's dir holding only this Dockerfile. */
async function contextWith(name: string, dockerfile: string): Promise<string> {
  const ctx = join(dir, name);
  await mkdir(ctx);
  await writeFile(join(ctx, 'Dockerfile'), dockerfile);
  return ctx;
}

const lines = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i)).join('\n');

interface Case {
  name: string;
  dockerfile: string;
  /** Exit 0, or fail with this message at this line. */
  error?: RegExp;
  line?: number;
  seconds: number;
}

const cases: Case[] = [
  { name: '10,000 ENV lines', dockerfile: `FROM scratch\n${lines(10_000, (i) => `ENV E${i}=v${i}`)}\n`, seconds: 8 },
  { name: '10,000 ARG lines', dockerfile: `FROM scratch\n${lines(10_000, (i) => `ARG A${i}=v${i}`)}\n`, seconds: 8 },
  { name: '10,000 mixed instructions', dockerfile: `FROM scratch\n${lines(10_000, (i) => [`ENV E${i}=$E${i - 1}x`, `LABEL l${i}=v`, `ARG A${i}`, `EXPOSE ${i % 60000}`, `USER u${i}`][i % 5]!)}\nRUN true\n`, seconds: 8 },
  { name: '10,000 RUN lines', dockerfile: `FROM scratch\n${lines(10_000, (i) => `RUN echo ${i}`)}\n`, seconds: 10 },
  {
    name: 'ARG values that double 40 times',
    dockerfile: `FROM scratch\nARG A0=x\n${lines(40, (i) => `ARG A${i + 1}=$A${i}$A${i}`)}\nRUN echo $A40\n`,
    error: /expansion is longer than 1048576 characters/,
    line: 23,
    seconds: 8,
  },
  {
    name: 'ENV values that double 40 times',
    dockerfile: `FROM scratch\nENV A0=x\n${lines(40, (i) => `ENV A${i + 1}=$A${i}$A${i}`)}\n`,
    error: /expansion is longer than 1048576 characters/,
    seconds: 8,
  },
  {
    name: 'a replacement that multiplies a value',
    dockerfile: `FROM scratch\nARG A=${'a'.repeat(60_000)}\nARG B=${'b'.repeat(60)}\nENV C=\${A//a/$B}\n`,
    error: /expansion is longer than 1048576 characters/,
    line: 4,
    seconds: 8,
  },
  {
    name: 'a pattern that backtracks (many stars against a long value)',
    dockerfile: `FROM scratch\nARG A0=${'a'.repeat(60_000)}\nARG A=$A0$A0$A0$A0\nENV B=\${A##*a*a*a*a*a*a*a*a*a*b} C=\${A%%a*a*a*a*a*a*b} D=\${A//a*a*a*b/x}\n`,
    seconds: 8,
  },
  {
    // 960,000 characters against 100 stars: past MAX_PATTERN_STEPS (a Pike VM is linear in each, not in both)
    name: 'a pattern too costly to match (100 stars against a 960,000-character value)',
    dockerfile: `FROM scratch\nARG A0=${'a'.repeat(60_000)}\nARG A1=$A0$A0$A0$A0\nARG A=$A1$A1$A1$A1\nENV B=\${A##${'a*'.repeat(100)}b}\n`,
    error: /pattern too costly to match/,
    line: 5,
    seconds: 8,
  },
  { name: 'WORKDIR 3,000 levels deep', dockerfile: `FROM scratch\n${lines(3000, (i) => `WORKDIR d${i}`)}\n`, error: /Linux allows paths of at most 4095/, seconds: 8 },
  { name: 'a line longer than 64 KiB', dockerfile: `FROM scratch\nRUN echo ${'x'.repeat(70_000)}\n`, error: /line greater than max allowed size/, line: 2, seconds: 8 },
  {
    name: 'an instruction of 40,000 continuation lines (more than 1 MiB)',
    dockerfile: `FROM scratch\nRUN echo \\\n${lines(40_000, () => `${'y'.repeat(30)} \\`)}\n end\n`,
    error: /instruction longer than 1048576 characters/,
    line: 2,
    seconds: 8,
  },
  { name: 'EXPOSE of a port past 2^64 (the fuzzer found it looping forever)', dockerfile: 'FROM scratch\nEXPOSE 99999999999999999999\n', error: /invalid containerPort: 99999999999999999999/, line: 2, seconds: 8 },
  { name: 'EXPOSE of a range of four billion ports', dockerfile: 'FROM scratch\nEXPOSE 1-4000000000\n', error: /invalid containerPort/, line: 2, seconds: 8 },
  { name: '2,000 stages, each copying from the one before', dockerfile: lines(2000, (i) => (i ? `FROM scratch AS s${i}\nCOPY --from=s${i - 1} / /` : 'FROM scratch AS s0\nRUN true')) + '\n', seconds: 15 },
];

/** The host is checked after every test (useHostGuard). */
useHostGuard();

describe('Dockerfiles that try to make kiln spin', () => {
  for (const [i, c] of cases.entries()) {
    test(c.name, async () => {
      const ctx = join(dir, `case${i}`);
      const { mkdir } = await import('node:fs/promises');
      await mkdir(ctx);
      await writeFile(join(ctx, 'Dockerfile'), c.dockerfile);
      const t0 = performance.now();
      const r = await runKiln(['debug', 'llb', ctx], { root: state.root });
      const seconds = (performance.now() - t0) / 1000;
      expect(r.stderr).not.toMatch(CRASH_SIGNS);
      if (c.error) {
        if (r.code !== 1) console.error(r.stderr.slice(0, 2000));
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(c.error);
        expect(r.stderr).toMatch(c.line ? new RegExp(`Dockerfile:${c.line}\\b`) : /Dockerfile:\d+/);
      } else {
        if (r.code !== 0) console.error(r.stderr.slice(0, 2000));
        expect(r.code).toBe(0);
      }
      expect(seconds).toBeLessThan(c.seconds);
    }, 60_000);
  }
});

describe('inputs that never end, or are too big', () => {
  test('kiln image load /dev/zero ends: an empty archive', async () => {
    const r = await runKiln(['image', 'load', '/dev/zero'], { root: state.root });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/not an image archive/);
  });
  test('a Dockerfile past 16 MiB is refused, from a file or from stdin', async () => {
    // 17 MiB of short, valid lines: only the size is wrong
    const text = `FROM scratch\n${'LABEL a=b\n'.repeat((17 << 20) / 10)}`;
    const ctx = await contextWith('big', text);
    expectCleanFailure(await runKiln(['build', ctx], { root: state.root }), /more than kiln reads of a build file \(16 MiB\)/, [2]);
    expectCleanFailure(await runKiln(['build', '-f', '-', ctx], { root: state.root, input: text }), /the Dockerfile on stdin is longer than 16 MiB/, [2]);
  });
  test('kiln build -f /dev/zero is refused', async () => {
    const r = await runKiln(['build', '-f', '/dev/zero', dir], { root: state.root });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not a regular file/);
  });
  test('a numeric --target is a stage name, not a number', async () => {
    const ctx = await contextWith('numeric-target', 'FROM scratch AS s1\nFROM scratch\n');
    const r = await runKiln(['debug', 'llb', '--target', '1', ctx], { root: state.root });
    expect(r.stderr).toMatch(/target stage "1" could not be found/);
    expect(r.stderr).not.toMatch(CRASH_SIGNS);
  });
});
