/**
 * Build contexts nobody here made: a fifo and a device node (reading either never ends), a
 * name that is not UTF-8, a path deeper than PATH_MAX, names with newlines and control
 * characters (built twice, so the context index reads them back), a symlink loop. Each build
 * ends by itself, with a clear error or the right files.
 */
import { describe, expect, test } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { symlinkSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeContext, runKiln } from '../helpers/kiln.ts';
import { useBuildEnv } from '../helpers/build-env.ts';
import { CRASH_SIGNS } from './helpers/clean-failure.ts';
import { useHostGuard } from './helpers/host-guard.ts';

const env = useBuildEnv();

interface Case {
  name: string;
  setup: (dir: string) => void;
  error?: RegExp;
  /** After a successful build: path in the image → content. */
  files?: Record<string, string>;
}

const cases: Case[] = [
  { name: 'a fifo', setup: (d) => spawnSync('mkfifo', [join(d, 'pipe')]), error: /holds pipe, which is not a regular file/ },
  { name: 'a device node', setup: (d) => spawnSync('mknod', [join(d, 'zero'), 'c', '1', '5']), error: /holds zero, which is not a regular file/ },
  { name: 'a name that is not UTF-8', setup: (d) => writeFileSync(Buffer.concat([Buffer.from(`${d}/bad`), Buffer.from([0xff, 0xfe])]), 'x'), error: /name that is not valid UTF-8/ },
  {
    name: 'a path longer than PATH_MAX',
    // made (and removed) by the shell one level at a time: no single call sees the whole path
    setup: (d) => spawnSync('sh', ['-c', `cd "${d}" && for i in $(seq 90); do mkdir ${'d'.repeat(50)} && cd ${'d'.repeat(50)}; done && echo deep > f`]),
    error: /longer than Linux allows|ENAMETOOLONG/,
  },
  {
    name: 'names with newlines, tabs and control characters',
    setup: (d) => {
      writeFileSync(join(d, 'line\nbreak'), 'newline\n');
      writeFileSync(join(d, 'tab\there'), 'tab\n');
      writeFileSync(join(d, 'bell\u0007 esc\u001b'), 'ctl\n');
      writeFileSync(join(d, 'nul-free \\ back'), 'backslash\n');
    },
    files: { 'ctx/line\nbreak': 'newline\n', 'ctx/tab\there': 'tab\n', 'ctx/bell\u0007 esc\u001b': 'ctl\n', 'ctx/nul-free \\ back': 'backslash\n' },
  },
  { name: 'a symlink loop', setup: (d) => { symlinkSync('loop', join(d, 'loop')); symlinkSync('b', join(d, 'a')); symlinkSync('a', join(d, 'b')); }, files: {} },
];

/** The host is checked after every test (useHostGuard). */
const host = useHostGuard();

describe('hostile build contexts', () => {
  for (const [i, c] of cases.entries()) {
    test(c.name, async () => {
      const ctx = await makeContext({ Dockerfile: `FROM ${env.reg.ref}\nCOPY . /ctx/\n` });
      try {
        c.setup(ctx.dir);
        for (const round of [1, 2]) {
          const dest = join(env.out, `ctx${i}-${round}`);
          const r = await runKiln(['build', '--progress=plain', '-o', `type=local,dest=${dest}`, ctx.dir], { root: env.state.root });
          expect(r.stderr).not.toMatch(CRASH_SIGNS);
          if (c.error) {
            if (r.code !== 1 || !c.error.test(r.stderr)) console.error(r.stderr.slice(-1500));
            expect(r.code).toBe(1);
            expect(r.stderr).toMatch(c.error);
            break;
          }
          if (r.code !== 0) console.error(r.stderr);
          expect(r.code).toBe(0);
          for (const [p, content] of Object.entries(c.files ?? {})) expect(await readFile(join(dest, p), 'utf8')).toBe(content);
          // a second build reads the context index it wrote (names with newlines included)
          if (round === 2) expect(r.stderr).toMatch(/CACHED/);
        }
      } finally {
        spawnSync('rm', ['-rf', ctx.dir]); // GNU rm walks any depth
        await ctx.cleanup();
      }
    });
  }
});

/**
 * A context whose Dockerfile is a symlink to a host file (`Dockerfile -> /etc/shadow`): the
 * build file is read inside the context, as every other file of it, by the frontend and by
 * what kiln shows or records of it (an error's frame, the provenance's sources, `# syntax=`).
 * The context holds its own file at the link's path, so the build gets that far.
 */
describe('a Dockerfile that is a symlink out of the context', () => {
  async function contextLinkingDockerfile(text: string) {
    const ctx = await makeContext({ [host.guard.secret.replace(/^\/+/, '')]: text });
    symlinkSync(host.guard.secret, join(ctx.dir, 'Dockerfile'));
    return ctx;
  }

  test("an error's frame shows the context's file, never the host's", async () => {
    const ctx = await contextLinkingDockerfile('NOSUCHINSTRUCTION x\n');
    try {
      const r = await runKiln(['build', '--progress=plain', ctx.dir], { root: env.state.root });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/Dockerfile:1/);
      expect(r.stderr).toMatch(/NOSUCHINSTRUCTION x/);
      expect(r.stderr).not.toContain(host.guard.secretText);
    } finally {
      await ctx.cleanup();
    }
  });

  test('the provenance (mode=max) records the context\'s file, never the host\'s', async () => {
    const ctx = await contextLinkingDockerfile('FROM scratch\nLABEL from=context\n');
    const dest = join(env.out, 'prov-link');
    try {
      const r = await runKiln(['build', '--progress=plain', '--provenance=mode=max', '-o', `type=local,dest=${dest}`, ctx.dir], { root: env.state.root });
      if (r.code !== 0) console.error(r.stderr);
      expect(r.code).toBe(0);
      const prov = JSON.parse(await readFile(join(dest, 'provenance.json'), 'utf8'));
      const [info] = prov.predicate.runDetails.metadata.buildkit_metadata.source.infos;
      expect(Buffer.from(info.data, 'base64').toString()).toBe('FROM scratch\nLABEL from=context\n');
      expect(r.stderr).not.toContain(host.guard.secretText);
    } finally {
      await ctx.cleanup();
    }
  });
});
