/**
 * Output attributes and shorthands, checked with skopeo and umoci: reproducible images from
 * SOURCE_DATE_EPOCH (+ rewrite-timestamp), compression=zstd|uncompressed (base layers kept
 * unless force-compression), oci-mediatypes, annotations, --metadata-file, --push and
 * type=registry, type=cacheonly, --load, and unknown attributes refused.
 */
import { describe, expect, test } from 'bun:test';
import { createHash, randomBytes } from 'node:crypto';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeContext, runKiln, tempStateDir } from '../helpers/kiln.ts';
import { useBuildEnv } from '../helpers/build-env.ts';
import { runTool, verifyDockerArchive, verifyOciArchive } from '../helpers/verify-image.ts';
import { makeTempDir, removeAll } from '../../src/util/fs.ts';

const env = useBuildEnv();

const EPOCH = '1700000000';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function digestOf(ctxDir: string, extra: string[], extraEnv: Record<string, string> = {}, args: string[] = []): Promise<{ digest: string; config: any }> {
  const s = await tempStateDir();
  try {
    const meta = join(env.out, `meta-${Math.random().toString(16).slice(2)}.json`);
    const tar = join(env.out, `img-${Math.random().toString(16).slice(2)}.tar`);
    const r = await runKiln(['build', ...args, '--metadata-file', meta, '-o', `type=oci,dest=${tar}${extra.length ? `,${extra.join(',')}` : ''}`, ctxDir], { root: s.root, env: extraEnv });
    if (r.code !== 0) console.error(r.stderr);
    expect(r.code).toBe(0);
    const m = JSON.parse(await readFile(meta, 'utf8'));
    const { config } = await verifyOciArchive(tar);
    return { digest: m['containerimage.digest'], config };
  } finally {
    await s.cleanup();
  }
}

describe('reproducible images', () => {
  test('SOURCE_DATE_EPOCH + rewrite-timestamp: two state dirs, same digest, also with RUN steps writing files', async () => {
    const ctx = await makeContext({
      Dockerfile: `FROM ${env.reg.ref}\nCOPY app.txt /app/\nRUN echo built > /app/built-at && mkdir -p /var/x && echo y > /var/x/y\nENV A=1\n`,
      'app.txt': 'app\n',
    });
    try {
      const epochEnv = { SOURCE_DATE_EPOCH: EPOCH };
      const a = await digestOf(ctx.dir, ['rewrite-timestamp=true'], epochEnv);
      await sleep(1100);
      const b = await digestOf(ctx.dir, ['rewrite-timestamp=true'], epochEnv);
      expect(a.digest).toMatch(/^sha256:/);
      expect(b.digest).toBe(a.digest);
      expect(a.config.created).toBe('2023-11-14T22:13:20Z');
      for (const h of a.config.history.slice(-3)) expect(h.created).toBe('2023-11-14T22:13:20Z');
      // without rewriting, the RUN step's file times differ between the two builds
      const c = await digestOf(ctx.dir, [], epochEnv);
      expect(c.digest).not.toBe(a.digest);
    } finally {
      await ctx.cleanup();
    }
  }, 60_000);

  test('no RUN steps and no new directories: SOURCE_DATE_EPOCH (as a build arg) alone makes the digest reproducible', async () => {
    const ctx = await makeContext({ Dockerfile: `FROM ${env.reg.ref}\nCOPY app.txt /\nLABEL x=y\n`, 'app.txt': 'app\n' });
    try {
      const a = await digestOf(ctx.dir, [], {}, ['--build-arg', `SOURCE_DATE_EPOCH=${EPOCH}`]);
      await sleep(1100);
      const b = await digestOf(ctx.dir, [], {}, ['--build-arg', `SOURCE_DATE_EPOCH=${EPOCH}`]);
      expect(b.digest).toBe(a.digest);
    } finally {
      await ctx.cleanup();
    }
  }, 60_000);
});

describe('output attributes', () => {
  test('compression, force-compression, oci-mediatypes, annotations, metadata file', async () => {
    const ctx = await makeContext({ Dockerfile: `FROM ${env.reg.ref}\nCOPY f /f\n`, f: 'content\n' });
    try {
      const zstd = join(env.out, 'zstd.tar');
      const plain = join(env.out, 'plain.tar');
      const forced = join(env.out, 'forced.tar');
      const dockerTypes = join(env.out, 'docker-types.tar');
      const meta = join(env.out, 'meta.json');
      const r = await runKiln(
        [
          'build', '-t', 'outputs-test:1', '--metadata-file', meta,
          '-o', `type=oci,dest=${zstd},compression=zstd,compression-level=3,annotation.org.opencontainers.image.title=hello`,
          '-o', `type=oci,dest=${plain},compression=uncompressed`,
          '-o', `type=oci,dest=${forced},compression=zstd,force-compression=true`,
          '-o', `type=oci,dest=${dockerTypes},oci-mediatypes=false`,
          ctx.dir,
        ],
        { root: env.state.root },
      );
      if (r.code !== 0) console.error(r.stderr);
      expect(r.code).toBe(0);
      const z = await verifyOciArchive(zstd, { umoci: false });
      expect(z.manifest.layers.map((l: any) => l.mediaType)).toEqual(['application/vnd.oci.image.layer.v1.tar+gzip', 'application/vnd.oci.image.layer.v1.tar+zstd']);
      expect(z.manifest.annotations).toEqual({ 'org.opencontainers.image.title': 'hello' });
      const p = await verifyOciArchive(plain);
      expect(p.manifest.layers[1].mediaType).toBe('application/vnd.oci.image.layer.v1.tar');
      expect(p.manifest.layers[1].digest).toBe(p.config.rootfs.diff_ids[1]);
      const f = await verifyOciArchive(forced, { umoci: false });
      expect(f.manifest.layers.map((l: any) => l.mediaType)).toEqual(['application/vnd.oci.image.layer.v1.tar+zstd', 'application/vnd.oci.image.layer.v1.tar+zstd']);
      // the same diff ids whatever the compression
      expect(f.config.rootfs.diff_ids).toEqual(z.config.rootfs.diff_ids);
      const d = JSON.parse((await runTool('skopeo', ['inspect', '--raw', `oci-archive:${dockerTypes}`])).stdout);
      expect(d.mediaType).toBe('application/vnd.docker.distribution.manifest.v2+json');
      expect(d.layers[1].mediaType).toBe('application/vnd.docker.image.rootfs.diff.tar.gzip');
      const m = JSON.parse(await readFile(meta, 'utf8'));
      const rawManifest = (await runTool('skopeo', ['inspect', '--raw', `oci-archive:${zstd}`])).stdout;
      expect(m['containerimage.digest']).toBe(`sha256:${createHash('sha256').update(rawManifest).digest('hex')}`);
      expect(m['containerimage.config.digest']).toBe(z.manifest.config.digest);
      expect(m['containerimage.descriptor'].mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
      expect(m['image.name']).toBe('docker.io/library/outputs-test:1');
    } finally {
      await ctx.cleanup();
    }
  }, 60_000);

  test('unknown attributes and values are refused with the known ones', async () => {
    const r = await runKiln(['build', '-o', `type=oci,dest=${join(env.out, 'x.tar')},compresion=zstd`, '.'], { root: env.state.root });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown attribute "compresion" (did you mean compression?)');
    const c = await runKiln(['build', '-o', `type=oci,dest=${join(env.out, 'x.tar')},compression=lz4`, '.'], { root: env.state.root });
    expect(c.code).toBe(2);
    expect(c.stderr).toContain('unknown compression "lz4"');
  });
});

describe('push, registry, cacheonly, load', () => {
  test('--push pushes the -t names (base layer mounted, a 20 MiB layer in chunks); type=registry pushes; pulled back and verified', async () => {
    const ctx = await makeContext({ Dockerfile: `FROM ${env.reg.ref}\nCOPY f /f\nCOPY big.bin /big.bin\n`, f: 'pushed\n' });
    await writeFile(join(ctx.dir, 'big.bin'), randomBytes(20 << 20));
    try {
      const name = `${env.reg.registry.host}/pushed:1`;
      const a = await runKiln(['build', '--progress=plain', '-t', name, '--push', ctx.dir], { root: env.state.root });
      if (a.code !== 0) console.error(a.stderr);
      expect(a.code).toBe(0);
      expect(a.stderr).toContain('mounted from busybox');
      expect(a.stderr.match(/: pushed/g)?.length).toBeGreaterThanOrEqual(3);
      const other = `${env.reg.registry.host}/pushed:2`;
      const b = await runKiln(['build', '-o', `type=registry,name=${other},compression=zstd`, ctx.dir], { root: env.state.root });
      expect(b.code).toBe(0);
      for (const n of [name, other]) {
        const dir = join(env.out, `pulled-${n.split(':').pop()}`);
        await runTool('skopeo', ['copy', '--quiet', '--src-tls-verify=false', `docker://${n}`, `oci:${dir}:x`]);
      }
      const raw = JSON.parse((await runTool('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${other}`])).stdout);
      expect(raw.layers[1].mediaType).toBe('application/vnd.oci.image.layer.v1.tar+zstd');
    } finally {
      await ctx.cleanup();
    }
  }, 60_000);

  test('type=cacheonly builds without a warning; --load needs a docker CLI and feeds it a docker archive', async () => {
    const ctx = await makeContext({ Dockerfile: `FROM ${env.reg.ref}\nCOPY f /f\n`, f: 'x\n' });
    const bin = await makeTempDir('kiln-fake-docker-');
    try {
      const c = await runKiln(['build', '--progress=plain', '-o', 'type=cacheonly', ctx.dir], { root: env.state.root });
      expect(c.code).toBe(0);
      expect(c.stderr).not.toContain('no output specified');
      const none = await runKiln(['build', '--load', ctx.dir], { root: env.state.root, env: { PATH: '/nonexistent' } });
      expect(none.code).toBe(2);
      expect(none.stderr).toContain('--load needs the docker CLI');
      // A stand-in `docker` that keeps what `docker load` would read; skopeo then checks it.
      const got = join(bin, 'loaded.tar');
      await writeFile(join(bin, 'docker'), `#!/bin/sh\n[ "$1" = load ] || exit 3\ncat > ${got}\necho "Loaded image ID: sha256:fake"\n`);
      await chmod(join(bin, 'docker'), 0o755);
      const l = await runKiln(['build', '--load', '-t', 'loaded:1', ctx.dir], { root: env.state.root, env: { PATH: `${bin}:${process.env.PATH}` } });
      if (l.code !== 0) console.error(l.stderr);
      expect(l.code).toBe(0);
      const v = await verifyDockerArchive(got);
      expect(v.manifest.layers.length).toBe(2);
    } finally {
      await ctx.cleanup();
      await removeAll(bin);
    }
  }, 60_000);
});
