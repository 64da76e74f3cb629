/**
 * Hostile Dockerfiles and contexts that aim symlinks at the host: RUN --mount sources (bind,
 * cache seeds; from a stage, the context or an image), mount targets, COPY and ADD sources and
 * destinations, ADD archives, and the local exporter writing into a directory that already
 * holds a symlink. Every build either fails with a clear message or keeps to the image's own
 * root: the host canary is untouched and its secret is in no output.
 */
import { describe, expect, test } from 'bun:test';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeContext, runKiln, runcContainers, mountsUnder } from '../helpers/kiln.ts';
import { useBuildEnv } from '../helpers/build-env.ts';
import { searchBytes } from '../helpers/search-bytes.ts';
import { useHostGuard } from './helpers/host-guard.ts';
import { pushHostileImage } from './helpers/push-image.ts';
import { tarBytes } from './helpers/tar-bytes.ts';
import { CRASH_SIGNS } from './helpers/clean-failure.ts';

const env = useBuildEnv();
const host = useHostGuard();

interface Case {
  name: string;
  /** The Dockerfile; C stands for the canary directory's absolute path, B for the base image. */
  dockerfile: string;
  /** Extra context files, given the canary path; a value starting with '->' is a symlink to what follows. */
  context?: (c: string) => Record<string, string | Buffer>;
  args?: string[];
  /** Must fail, saying this. */
  refused?: RegExp;
}

const cases: Case[] = [
  {
    name: 'bind mount of a stage symlink to a host directory',
    dockerfile: 'FROM B AS l\nRUN ln -s C /e\nFROM B\nRUN --mount=type=bind,from=l,source=/e,target=/m head -1 /m/secret > /out\n',
    refused: /mount source .*not found|does not exist|no such file/i,
  },
  {
    name: 'rw bind mount of a stage symlink, written to',
    dockerfile: 'FROM B AS l\nRUN ln -s C /e\nFROM B\nRUN --mount=type=bind,from=l,source=/e,target=/m,rw touch /m/written\n',
    refused: /mount source .*not found|does not exist|no such file/i,
  },
  {
    name: 'bind mount through a symlink in the middle of the source path',
    dockerfile: 'FROM B AS l\nRUN mkdir /d && ln -s C /d/e\nFROM B\nRUN --mount=type=bind,from=l,source=/d/e/sub,target=/m,rw ls /m > /out; touch /m/written || true\n',
    refused: /mount source .*not found|does not exist|no such file/i,
  },
  {
    name: 'bind mount of a stage symlink that stays inside (resolved in its root)',
    dockerfile: 'FROM B AS l\nRUN mkdir -p /real && echo inside > /real/f && ln -s /real /e\nFROM B\nRUN --mount=type=bind,from=l,source=/e,target=/m cat /m/f > /out\n',
  },
  {
    name: 'bind mount of a context symlink to a host directory',
    dockerfile: 'FROM B\nRUN --mount=type=bind,source=hostlink,target=/m,rw cat /m/secret > /out 2>&1; touch /m/written; true\n',
    context: (c) => ({ hostlink: `->${c}` }),
    refused: /mount source .*not found|does not exist|no such file/i,
  },
  {
    name: 'bind mount of a file through a context symlink',
    dockerfile: 'FROM B\nRUN --mount=type=bind,source=hostlink/secret,target=/m cat /m > /out\n',
    context: (c) => ({ hostlink: `->${c}` }),
    refused: /mount source .*not found|does not exist|no such file/i,
  },
  {
    name: 'cache mount seeded from a stage symlink to a host directory',
    dockerfile: 'FROM B AS l\nRUN ln -s C /e\nFROM B\nRUN --mount=type=cache,id=hostile-seed,target=/c,from=l,source=/e cat /c/secret > /out 2>&1; touch /c/written; true\n',
    refused: /mount source .*not found|does not exist|no such file/i,
  },
  {
    name: 'mount targets through rootfs symlinks (bind, tmpfs, secret, cache)',
    dockerfile:
      'FROM B\nRUN ln -s C /t\nRUN --mount=type=bind,target=/t/b --mount=type=tmpfs,target=/t/tm --mount=type=secret,id=s,target=/t/s --mount=type=cache,target=/t/c true\n',
    args: ['--secret', 'id=s,env=HOSTILE_SECRET'],
  },
  {
    name: 'COPY of a context symlink and through it',
    dockerfile: 'FROM B\nCOPY hostlink /copied\nCOPY hostlink/secret /x\n',
    context: (c) => ({ hostlink: `->${c}` }),
    refused: /not found/,
  },
  {
    name: 'COPY --from through a stage symlink',
    dockerfile: 'FROM B AS l\nRUN ln -s C /e\nFROM B\nCOPY --from=l /e/secret /x\n',
    refused: /not found/,
  },
  {
    name: 'COPY and ADD into a destination symlink to a host directory',
    dockerfile: 'FROM B\nRUN ln -s C /dst && ln -s C/secret /dstfile\nCOPY f /dst/\nCOPY f /dstfile\nADD arch.tar /dst/\nCOPY --chmod=777 f /dst/f2\nWORKDIR /dst/wd\nRUN true\n',
    context: () => ({ f: 'context file\n', 'arch.tar': tarBytes([{ name: 'from-archive', data: 'a' }]) }),
  },
  {
    name: 'ADD of a hostile archive (symlink then a write through it, hard links out, ..)',
    dockerfile: 'FROM B\nADD evil.tar /x/\nRUN ls -la /x > /out\n',
    context: (c) => ({
      'evil.tar': tarBytes([
        { name: 'e', type: 'symlink', linkname: c },
        { name: 'e/evil', data: 'evil' },
        { name: 'hl', type: 'link', linkname: 'e/secret' },
      ]),
    }),
    refused: /hard link|not a regular file|does not exist/,
  },
  {
    name: 'ADD of an archive with .. entries',
    dockerfile: 'FROM B\nADD evil.tar /x/\n',
    context: () => ({ 'evil.tar': tarBytes([{ name: '../../../../../../../tmp/kiln-canary-escape', data: 'evil' }]) }),
    refused: /escapes/,
  },
  {
    name: 'ADD of an archive with a hard link to a directory',
    dockerfile: 'FROM B\nADD evil.tar /x/\n',
    context: () => ({ 'evil.tar': tarBytes([{ name: 'd', type: 'dir' }, { name: 'hl', type: 'link', linkname: 'd' }]) }),
    refused: /not a regular file/,
  },
];

describe('hostile trees', () => {
  for (const [i, c] of cases.entries()) {
    test(c.name, async () => {
      // A C standing alone is the canary path.
      const dockerfile = c.dockerfile.replace(/(?<![A-Za-z])C(?![A-Za-z])/g, host.guard.dir).replaceAll('FROM B', `FROM ${env.reg.ref}`);
      const ctx = await makeContext({ Dockerfile: dockerfile });
      for (const [p, v] of Object.entries(c.context?.(host.guard.dir) ?? {})) {
        if (typeof v === 'string' && v.startsWith('->')) await symlink(v.slice(2), join(ctx.dir, p));
        else await writeFile(join(ctx.dir, p), v);
      }
      const dest = join(env.out, `tree${i}`);
      try {
        const r = await runKiln(['build', '--progress=plain', '-o', `type=local,dest=${dest}`, ...(c.args ?? []), ctx.dir], {
          root: env.state.root,
          env: { HOSTILE_SECRET: 'x' },
        });
        expect(r.stderr).not.toMatch(CRASH_SIGNS);
        if (c.refused) {
          if (r.code !== 1 || !c.refused.test(r.stderr)) console.error(r.stderr);
          expect(r.code).toBe(1);
          expect(r.stderr).toMatch(c.refused);
        } else {
          if (r.code !== 0) console.error(r.stderr);
          expect(r.code).toBe(0);
        }
        expect(host.guard.problems()).toEqual([]);
        expect(await searchBytes([dest].filter(() => r.code === 0), [host.guard.secretText])).toEqual([]);
        if (c.name.includes('stays inside')) expect(await readFile(join(dest, 'out'), 'utf8')).toBe('inside\n');
        expect(runcContainers(env.state.root)).toEqual([]);
        expect(mountsUnder(env.state.root)).toEqual([]);
      } finally {
        await ctx.cleanup();
      }
    });
  }

  test('an image symlink as a bind mount source', async () => {
    const ref = await pushHostileImage(env.reg.registry.url, 'hostile-mount', { layers: [tarBytes([{ name: 'e', type: 'symlink', linkname: host.guard.dir }])] });
    const ctx = await makeContext({ Dockerfile: `FROM ${env.reg.ref}\nRUN --mount=type=bind,from=${ref},source=/e,target=/m,rw cat /m/secret; touch /m/written\n` });
    try {
      const r = await runKiln(['build', '--progress=plain', ctx.dir], { root: env.state.root });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/mount source .*not found|does not exist|no such file/i);
      expect(r.stderr).not.toMatch(CRASH_SIGNS);
      expect(r.stderr).not.toContain(host.guard.secretText);
      expect(host.guard.problems()).toEqual([]);
    } finally {
      await ctx.cleanup();
    }
  });

  test('the local exporter merging into a directory that holds a symlink to the host', async () => {
    const dest = join(env.out, 'merge-into');
    await mkdir(dest);
    await symlink(host.guard.dir, join(dest, 'sub'));
    await symlink(join(host.guard.dir, 'secret'), join(dest, 'secret'));
    const ctx = await makeContext({ Dockerfile: `FROM ${env.reg.ref}\nRUN mkdir /sub && echo image > /sub/secret && echo image > /secret\n` });
    try {
      const r = await runKiln(['build', '--progress=plain', '-o', `type=local,dest=${dest}`, ctx.dir], { root: env.state.root });
      expect(r.code).toBe(0);
      expect(host.guard.problems()).toEqual([]);
      expect(await readFile(join(dest, 'sub', 'secret'), 'utf8')).toBe('image\n');
      expect(await readFile(join(dest, 'secret'), 'utf8')).toBe('image\n');
    } finally {
      await ctx.cleanup();
    }
  });
});
