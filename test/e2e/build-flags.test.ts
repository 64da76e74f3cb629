/**
 * docker build's inputs through dist/kiln: a lowercase `dockerfile`, `-f -`, `--build-arg K`
 * from the environment, `--label`, predefined proxy args (in RUN's environment, never in
 * the history or the cache key), TARGETSTAGE.
 */
import { describe, expect, test } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { useBuildEnv } from '../helpers/build-env.ts';
import { makeContext, runKiln } from '../helpers/kiln.ts';

const env = useBuildEnv();

/** The image config of an OCI layout tar, read with tar. */
function configOf(tarPath: string): { config: { Labels?: Record<string, string>; Env?: string[] }; history: { created_by: string }[] } {
  const index = JSON.parse(spawnSync('tar', ['-xOf', tarPath, 'index.json'], { encoding: 'utf8' }).stdout);
  const manifest = JSON.parse(spawnSync('tar', ['-xOf', tarPath, `blobs/sha256/${index.manifests[0].digest.slice(7)}`], { encoding: 'utf8' }).stdout);
  return JSON.parse(spawnSync('tar', ['-xOf', tarPath, `blobs/sha256/${manifest.config.digest.slice(7)}`], { encoding: 'utf8' }).stdout);
}

describe('build inputs', () => {
  test('lowercase dockerfile, -f -, --build-arg K from the environment, --label, TARGETSTAGE', async () => {
    const ctx = await makeContext({ dockerfile: 'FROM scratch\nARG FROM_ENV\nARG TARGETSTAGE\nLABEL env=$FROM_ENV stage=$TARGETSTAGE\n' });
    try {
      const out = join(ctx.dir, 'a.tar');
      const r = await runKiln(['build', '--progress=plain', '--build-arg', 'FROM_ENV', '--label', 'extra=1', '-o', `type=oci,dest=${out}`, ctx.dir], {
        root: env.state.root,
        env: { FROM_ENV: 'from the env' },
      });
      expect(r.code).toBe(0);
      expect(configOf(out).config.Labels).toEqual({ env: 'from the env', stage: 'default', extra: '1' });

      const out2 = join(ctx.dir, 'b.tar');
      const s = await runKiln(['build', '--progress=plain', '-f', '-', '--target', 'final', '-o', `type=oci,dest=${out2}`, ctx.dir], {
        root: env.state.root,
        input: 'FROM scratch AS final\nARG TARGETSTAGE\nLABEL from=stdin stage=$TARGETSTAGE\n',
      });
      expect(s.code).toBe(0);
      expect(configOf(out2).config.Labels).toEqual({ from: 'stdin', stage: 'final' });
    } finally {
      await ctx.cleanup();
    }
  });

  test('proxy build args reach RUN but not the history or the cache key', async () => {
    const ctx = await makeContext({ Dockerfile: `FROM ${env.reg.ref}\nRUN echo "proxy=$HTTP_PROXY" > /proxy.txt\n` });
    try {
      const build = (proxy: string, dest: string) =>
        runKiln(['build', '--progress=plain', '--build-arg', `HTTP_PROXY=${proxy}`, '-o', `type=oci,dest=${join(ctx.dir, `${dest}.tar`)}`, '-o', `type=local,dest=${join(ctx.dir, dest)}`, ctx.dir], {
          root: env.state.root,
        });
      const a = await build('http://proxy-a:3128', 'a');
      expect(a.code).toBe(0);
      expect(await readFile(join(ctx.dir, 'a', 'proxy.txt'), 'utf8')).toBe('proxy=http://proxy-a:3128\n');
      const history = configOf(join(ctx.dir, 'a.tar')).history.map((h) => h.created_by).join('\n');
      expect(history).not.toContain('proxy-a');
      expect(JSON.stringify(configOf(join(ctx.dir, 'a.tar')).config.Env)).not.toContain('proxy-a');
      const b = await build('http://proxy-b:3128', 'b');
      expect(b.code).toBe(0);
      expect(b.stderr).toMatch(/0 steps run/);
    } finally {
      await ctx.cleanup();
    }
  });

  test('--add-host puts NAME IP into /etc/hosts of every RUN (also after a COPY and in a child stage), not the image', async () => {
    const ctx = await makeContext({ Dockerfile: `FROM ${env.reg.ref} AS a\nCOPY Dockerfile /df\nRUN grep myhost /etc/hosts > /a.txt\nFROM a\nRUN grep other /etc/hosts > /b.txt\n` });
    try {
      const out = join(ctx.dir, 'out');
      const r = await runKiln(['build', '--progress=plain', '--add-host', 'myhost:10.1.2.3', '--add-host', 'other:fd00::1', '-o', `type=local,dest=${out}`, ctx.dir], { root: env.state.root });
      if (r.code !== 0) console.error(r.stderr);
      expect(r.code).toBe(0);
      expect((await readFile(join(out, 'a.txt'), 'utf8')).trim()).toMatch(/^10\.1\.2\.3\s+myhost$/);
      expect((await readFile(join(out, 'b.txt'), 'utf8')).trim()).toMatch(/^fd00::1\s+other$/);
      expect((await readFile(join(out, 'etc', 'hosts'), 'utf8').catch(() => ''))).not.toContain('myhost');
      const bad = await runKiln(['build', '--add-host', 'nocolon', ctx.dir], { root: env.state.root });
      expect(bad.code).toBe(2);
    } finally {
      await ctx.cleanup();
    }
  });
});
