/** COPY --chown resolved as BuildKit resolves it: `root` and numbers need no passwd; unknown names mean 0. */
import { describe, expect, test } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { useBuildEnv } from '../helpers/build-env.ts';
import { makeContext, runKiln } from '../helpers/kiln.ts';

const env = useBuildEnv();

/** `path uid/gid` for every file in a rootfs tar. */
function owners(tarPath: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of spawnSync('tar', ['--numeric-owner', '-tvf', tarPath], { encoding: 'utf8' }).stdout.trim().split('\n')) {
    const f = line.split(/\s+/);
    out[f[5]!.replace(/^\.?\//, '')] = f[1]!;
  }
  return out;
}

describe('COPY --chown', () => {
  test('root without /etc/passwd, unknown names, a group of the user', async () => {
    const ctx = await makeContext({
      'f.txt': 'f\n',
      'scratch/Dockerfile': 'FROM scratch\nCOPY --chown=root:root f.txt /a\nCOPY --chown=7 f.txt /b\n',
      Dockerfile: [
        'ARG BASE',
        'FROM $BASE',
        'COPY --chown=nonexist f.txt /unknown-user',
        'COPY --chown=nobody:nonexist f.txt /unknown-group',
        'COPY --chown=nobody: f.txt /empty-group',
        'COPY --chown=0:nogroup f.txt /named-group',
        '',
      ].join('\n'),
    });
    try {
      const tar1 = join(ctx.dir, 'scratch.tar');
      const a = await runKiln(['build', '--progress=plain', '-f', join(ctx.dir, 'scratch', 'Dockerfile'), '-o', `type=tar,dest=${tar1}`, ctx.dir], { root: env.state.root });
      expect(a.code).toBe(0);
      expect(owners(tar1)).toMatchObject({ a: '0/0', b: '7/7' });

      const tar2 = join(ctx.dir, 'base.tar');
      const b = await runKiln(['build', '--progress=plain', '--build-arg', `BASE=${env.reg.ref}`, '-o', `type=tar,dest=${tar2}`, ctx.dir], { root: env.state.root });
      expect(b.code).toBe(0);
      expect(owners(tar2)).toMatchObject({ 'unknown-user': '0/0', 'unknown-group': '65534/65534', 'empty-group': '65534/65534', 'named-group': '0/65534' });
      expect(b.stderr).toContain('no user "nonexist" in /etc/passwd, so uid 0 and gid 0 are used');
      expect(b.stderr).toContain('no group "nonexist" in /etc/group, so gid 65534 is used');
    } finally {
      await ctx.cleanup();
    }
  });
});
