/**
 * Frontend plugins through the compiled binary: --frontend PATH, a directory with package.json,
 * `"syntax"` in a JSON build file, `# syntax=` and BUILDKIT_SYNTAX, config-file names,
 * docker/dockerfile:* run built in; and the promised errors when a plugin throws, returns
 * nonsense, never answers or is not a frontend.
 */
import { describe, expect, test } from 'bun:test';
import { chmod, cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { makeContext, runKiln } from '../helpers/kiln.ts';
import { useBuildEnv } from '../helpers/build-env.ts';
import { verifyOciArchive } from '../helpers/verify-image.ts';

const SPEC_FRONTEND = resolve(import.meta.dir, '../../examples/frontends/spec/frontend.ts');
const PY_FRONTEND = resolve(import.meta.dir, '../../examples/frontends/lines-py/frontend.py');

const env = useBuildEnv();

const spec = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    base: env.reg.ref,
    workdir: '/app',
    env: { GREETING: 'hello from a spec' },
    files: { '/app/motd': 'built by the spec frontend\n' },
    copy: [{ from: 'src', to: '/app/src' }],
    run: ['echo "$GREETING" > /app/greeting'],
    cmd: ['cat', '/app/motd'],
    labels: { 'org.example.frontend': 'spec' },
    ...extra,
  });

async function specContext(extra: Record<string, unknown> = {}) {
  const ctx = await makeContext({ 'kiln.json': spec(extra), 'src/app.py': "print('hi')\n" });
  await cp(SPEC_FRONTEND, join(ctx.dir, 'frontend.ts'));
  return ctx;
}

async function buildLocal(args: string[], ctxDir: string, extraEnv: Record<string, string> = {}) {
  const dest = join(env.out, `fs-${Math.random().toString(16).slice(2)}`);
  const r = await runKiln(['build', '--progress=plain', ...args, '-o', `type=local,dest=${dest}`, ctxDir], { root: env.state.root, env: extraEnv });
  return { r, read: (p: string) => readFile(join(dest, p), 'utf8').catch(() => undefined) };
}

describe('loading frontend plugins', () => {
  test('--frontend PATH with the spec example: files, env, copy, run, config', async () => {
    const ctx = await specContext();
    try {
      const oci = join(env.out, 'spec.tar');
      const r = await runKiln(['build', '--frontend', join(ctx.dir, 'frontend.ts'), '-f', join(ctx.dir, 'kiln.json'), '-o', `type=oci,dest=${oci}`, ctx.dir], { root: env.state.root });
      if (r.code !== 0) console.error(r.stderr);
      expect(r.code).toBe(0);
      const { config } = await verifyOciArchive(oci, {
        onRootfs: async (root) => {
          expect(await readFile(join(root, 'app/motd'), 'utf8')).toBe('built by the spec frontend\n');
          expect(await readFile(join(root, 'app/greeting'), 'utf8')).toBe('hello from a spec\n');
          expect(await readFile(join(root, 'app/src/app.py'), 'utf8')).toBe("print('hi')\n");
        },
      });
      expect(config.config.Cmd).toEqual(['cat', '/app/motd']);
      expect(config.config.WorkingDir).toBe('/app');
      expect(config.config.Labels['org.example.frontend']).toBe('spec');
      expect(config.config.Env).toContain('GREETING=hello from a spec');
    } finally {
      await ctx.cleanup();
    }
  }, 30_000);

  test('"syntax" in a JSON build file, # syntax= in a Dockerfile, BUILDKIT_SYNTAX, a package directory, a config name', async () => {
    const ctx = await specContext({ syntax: './frontend.ts' });
    try {
      // A frontend file named by the build file runs only when granted (test/security/hostile-frontend.test.ts).
      const viaJson = await buildLocal(['--allow', 'frontend.local', '-f', join(ctx.dir, 'kiln.json')], ctx.dir);
      if (viaJson.r.code !== 0) console.error(viaJson.r.stderr);
      expect(await viaJson.read('app/greeting')).toBe('hello from a spec\n');

      // A `# syntax=` line naming the plugin (the spec frontend skips comment lines).
      await writeFile(join(ctx.dir, 'build.spec'), `# syntax=./frontend.ts\n${spec()}`);
      const viaHash = await buildLocal(['--allow', 'frontend.local', '-f', join(ctx.dir, 'build.spec')], ctx.dir);
      if (viaHash.r.code !== 0) console.error(viaHash.r.stderr);
      expect(await viaHash.read('app/greeting')).toBe('hello from a spec\n');

      // BUILDKIT_SYNTAX names the frontend for a build file without a directive.
      await writeFile(join(ctx.dir, 'nodirective.json'), spec());
      const viaArg = await buildLocal(['-f', join(ctx.dir, 'nodirective.json'), '--build-arg', `BUILDKIT_SYNTAX=${join(ctx.dir, 'frontend.ts')}`], ctx.dir);
      expect(await viaArg.read('app/motd')).toBe('built by the spec frontend\n');

      const pkg = join(ctx.dir, 'pkg');
      await mkdir(pkg);
      await cp(SPEC_FRONTEND, join(pkg, 'main.ts'));
      await writeFile(join(pkg, 'package.json'), JSON.stringify({ name: 'spec-frontend', main: 'main.ts' }));
      const viaDir = await buildLocal(['--frontend', pkg, '-f', join(ctx.dir, 'kiln.json')], ctx.dir);
      expect(await viaDir.read('app/greeting')).toBe('hello from a spec\n');

      const cfg = join(ctx.dir, 'kiln.toml');
      await writeFile(cfg, `[frontend."spec"]\npath = "${join(ctx.dir, 'frontend.ts')}"\n`);
      const viaName = await buildLocal(['--config', cfg, '--frontend', 'spec', '-f', join(ctx.dir, 'kiln.json')], ctx.dir);
      expect(await viaName.read('app/greeting')).toBe('hello from a spec\n');
    } finally {
      await ctx.cleanup();
    }
  }, 60_000);

  test('the node-app example builds a Node.js app from package.json alone', async () => {
    const ctx = await makeContext({
      'package.json': JSON.stringify({ name: 'hello-node', version: '1.2.3', main: 'server.js' }),
      'server.js': "console.log('hi')\n",
      'lib/util.js': 'module.exports = 1;\n',
      'node_modules/left-pad/index.js': 'never copied\n',
    });
    try {
      const oci = join(env.out, 'node.tar');
      const fe = resolve(import.meta.dir, '../../examples/frontends/node-app/frontend.ts');
      const r = await runKiln(['build', '--frontend', fe, '-f', join(ctx.dir, 'package.json'), '--build-arg', `BASE=${env.reg.ref}`, '-o', `type=oci,dest=${oci}`, ctx.dir], { root: env.state.root });
      if (r.code !== 0) console.error(r.stderr);
      expect(r.code).toBe(0);
      const { config } = await verifyOciArchive(oci, {
        onRootfs: async (root) => {
          expect(await readFile(join(root, 'app/server.js'), 'utf8')).toBe("console.log('hi')\n");
          expect(await readFile(join(root, 'app/lib/util.js'), 'utf8')).toBe('module.exports = 1;\n');
          expect(await readFile(join(root, 'app/node_modules/left-pad/index.js'), 'utf8').catch(() => 'absent')).toBe('absent');
        },
      });
      expect(config.config.Cmd).toEqual(['node', 'server.js']);
      expect(config.config.WorkingDir).toBe('/app');
      expect(config.config.Env).toContain('NODE_ENV=production');
      expect(config.config.Labels['org.opencontainers.image.title']).toBe('hello-node');
      expect(config.config.Labels['org.opencontainers.image.version']).toBe('1.2.3');
    } finally {
      await ctx.cleanup();
    }
  }, 30_000);

  test('docker/dockerfile:* names run the built-in frontend, offline', async () => {
    const ctx = await makeContext({ Dockerfile: `# syntax=docker/dockerfile:1.7\nFROM ${env.reg.ref}\nRUN echo builtin > /which\n` });
    try {
      const b = await buildLocal([], ctx.dir);
      if (b.r.code !== 0) console.error(b.r.stderr);
      expect(await b.read('which')).toBe('builtin\n');
    } finally {
      await ctx.cleanup();
    }
  });
});

describe('kiln frontend init', () => {
  test('scaffolds a frontend that builds its example through dist/kiln, and never overwrites', async () => {
    const dir = join(env.out, 'my-frontend');
    const r = await runKiln(['frontend', 'init', dir], { root: env.state.root });
    expect(r.code).toBe(0);
    for (const f of ['frontend.ts', 'kiln-frontend.d.ts', 'build.txt', 'frontend.test.ts', 'README.md']) expect(await readFile(join(dir, f), 'utf8')).toBeTruthy();
    const b = await buildLocal(['--frontend', join(dir, 'frontend.ts'), '-f', join(dir, 'build.txt')], dir);
    if (b.r.code !== 0) console.error(b.r.stderr);
    expect(await b.read('hello.txt')).toBe('Hello from a kiln frontend\n');
    const again = await runKiln(['frontend', 'init', dir], { root: env.state.root });
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('never overwrites');
  });
});

describe('frontends in any language (JSON lines over stdio)', () => {
  test('the Python example, chosen by # syntax=, builds through the protocol; a dying process is reported', async () => {
    const ctx = await makeContext({});
    try {
      await cp(PY_FRONTEND, join(ctx.dir, 'frontend.py'));
      const lines = (await readFile(resolve(PY_FRONTEND, '../build.lines'), 'utf8')).replace('busybox:latest', env.reg.ref);
      await writeFile(join(ctx.dir, 'build.lines'), lines);
      const oci = join(env.out, 'py.tar');
      const r = await runKiln(['build', '--progress=plain', '--allow', 'frontend.local', '-f', join(ctx.dir, 'build.lines'), '-o', `type=oci,dest=${oci}`, ctx.dir], { root: env.state.root });
      if (r.code !== 0) console.error(r.stderr);
      expect(r.code).toBe(0);
      const { config } = await verifyOciArchive(oci, {
        onRootfs: async (root) => {
          expect(await readFile(join(root, 'hello.txt'), 'utf8')).toBe('Hello from a Python frontend\n');
          expect(await readFile(join(root, 'greeting'), 'utf8')).toBe('hello from Python\n');
        },
      });
      expect(config.config.Cmd).toEqual(['/bin/sh', '-c', 'cat /hello.txt']);

      const dying = join(ctx.dir, 'dies.sh');
      await writeFile(dying, '#!/bin/sh\nread line\necho "something broke" >&2\nexit 3\n');
      await chmod(dying, 0o755);
      const d = await runKiln(['build', '--frontend', dying, ctx.dir], { root: env.state.root });
      expect(d.code).toBe(1);
      expect(d.stderr).toContain(`frontend ${dying} failed: exited (code 3) before answering: something broke`);
      const refusing = join(ctx.dir, 'refuses.sh');
      await writeFile(refusing, '#!/bin/sh\nread line\necho \'{"type":"error","message":"no spec here"}\'\n');
      await chmod(refusing, 0o755);
      const e = await runKiln(['build', '--frontend', refusing, ctx.dir], { root: env.state.root });
      expect(e.code).toBe(1);
      expect(e.stderr).toContain(`frontend ${refusing} failed: no spec here`);
    } finally {
      await ctx.cleanup();
    }
  }, 30_000);
});

describe('misbehaving plugins', () => {
  const plugin = async (name: string, body: string) => {
    const p = join(env.out, `${name}.ts`);
    await writeFile(p, body);
    return p;
  };

  test('throws, returns nonsense, never answers, is not a frontend, unknown name: clear errors naming the plugin', async () => {
    const ctx = await makeContext({ Dockerfile: 'FROM scratch\n' });
    try {
      const throws = await plugin('throws', "export default { name: 'x', async build() { throw new Error('boom in the plugin'); } };\n");
      const a = await runKiln(['build', '--frontend', throws, ctx.dir], { root: env.state.root });
      expect(a.code).toBe(1);
      expect(a.stderr).toContain(`frontend ${throws} failed: boom in the plugin`);

      const nonsense = await plugin('nonsense', "export default { name: 'x', async build() { return { definition: { version: 1, ops: [{ digest: 'nope' }] }, config: {} }; } };\n");
      const b = await runKiln(['build', '--frontend', nonsense, ctx.dir], { root: env.state.root });
      expect(b.code).toBe(1);
      expect(b.stderr).toContain(`frontend ${nonsense} returned an invalid result: definition.ops.0.digest`);

      const hangs = await plugin('hangs', "export default { name: 'x', build() { return new Promise(() => {}); } };\n");
      const c = await runKiln(['build', '--frontend', hangs, ctx.dir], { root: env.state.root, env: { KILN_FRONTEND_TIMEOUT: '1' } });
      expect(c.code).toBe(1);
      expect(c.stderr).toContain(`frontend ${hangs} did not answer within 1 s`);

      const notOne = await plugin('not-one', "export default { name: 'x' };\n");
      const d = await runKiln(['build', '--frontend', notOne, ctx.dir], { root: env.state.root });
      expect(d.code).toBe(1);
      expect(d.stderr).toContain(`frontend ${notOne} is not a frontend: build`);

      const broken = await plugin('broken', 'export default {{{;\n');
      const e = await runKiln(['build', '--frontend', broken, ctx.dir], { root: env.state.root });
      expect(e.code).toBe(1);
      expect(e.stderr).toContain(`frontend ${broken} could not be loaded`);

      const f = await runKiln(['build', '--frontend', 'no-such-frontend', ctx.dir], { root: env.state.root });
      expect(f.code).toBe(2);
      expect(f.stderr).toContain('unknown frontend "no-such-frontend" (--frontend)');
      const g = await runKiln(['build', '--frontend', join(env.out, 'missing.ts'), ctx.dir], { root: env.state.root });
      expect(g.code).toBe(2);
      expect(g.stderr).toContain('does not exist');
    } finally {
      await ctx.cleanup();
    }
  }, 30_000);
});
