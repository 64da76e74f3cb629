/**
 * Multi-platform builds without emulation: a `FROM --platform=$BUILDPLATFORM` stage runs
 * natively, once per target platform's arguments, and feeds each platform's image; outputs are
 * an index (oci, docker as a manifest list, the image store, a push that skopeo reads) or a
 * directory per platform (local, tar; platform-split=false merges them); BUILDKIT_MULTI_PLATFORM=1
 * makes an index of one platform.
 */
import { describe, expect, test } from 'bun:test';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeContext, runKiln } from '../helpers/kiln.ts';
import { useBuildEnv } from '../helpers/build-env.ts';
import { runTool, verifyOciArchive } from '../helpers/verify-image.ts';

const env = useBuildEnv();

const dockerfile = (base: string) => `FROM --platform=$BUILDPLATFORM ${base} AS build
RUN echo shared-by-both > /shared && echo ran-shared
ARG TARGETPLATFORM TARGETOS TARGETARCH BUILDPLATFORM
RUN echo "$TARGETPLATFORM $TARGETOS $TARGETARCH built on $BUILDPLATFORM" > /out && echo ran-for-$TARGETARCH
FROM scratch
COPY --from=build /out /out
`;

describe('multi-platform builds', () => {
  test('linux/amd64,linux/arm64: one index, a cross-compiling stage run natively per platform', async () => {
    const ctx = await makeContext({ Dockerfile: dockerfile(env.reg.ref) });
    try {
      const oci = join(env.out, 'multi.tar');
      const build = (args: string[]) => runKiln(['build', '--progress=plain', '--platform', 'linux/amd64,linux/arm64', ...args, ctx.dir], { root: env.state.root });
      const r = await build(['-o', `type=oci,dest=${oci}`]);
      if (r.code !== 0) console.error(r.stderr);
      expect(r.code).toBe(0);
      // The build stage ran natively, once per target (its TARGETARCH differs).
      expect(r.stderr.match(/^#\d+ [\d.]+ ran-for-amd64$/gm)?.length).toBe(1);
      expect(r.stderr.match(/^#\d+ [\d.]+ ran-for-arm64$/gm)?.length).toBe(1);
      // A step both platforms share (same base, no per-platform argument) runs once.
      expect(r.stderr.match(/^#\d+ [\d.]+ ran-shared$/gm)?.length).toBe(1);

      const index = JSON.parse((await runTool('skopeo', ['inspect', '--raw', `oci-archive:${oci}`])).stdout);
      expect(index.mediaType).toBe('application/vnd.oci.image.index.v1+json');
      expect(index.manifests.map((m: { platform: { os: string; architecture: string } }) => `${m.platform.os}/${m.platform.architecture}`)).toEqual(['linux/amd64', 'linux/arm64']);
      for (const arch of ['amd64', 'arm64']) {
        const cfg = JSON.parse((await runTool('skopeo', ['inspect', '--config', '--override-arch', arch, `oci-archive:${oci}`])).stdout);
        expect(cfg.architecture).toBe(arch);
      }

      // local: a directory per platform, each with its own file.
      const local = join(env.out, 'local');
      expect((await build(['-o', `type=local,dest=${local}`])).code).toBe(0);
      expect((await readdir(local)).sort()).toEqual(['linux_amd64', 'linux_arm64']);
      const host = (await runTool('uname', ['-m'])).stdout.trim() === 'aarch64' ? 'linux/arm64' : 'linux/amd64';
      expect(await readFile(join(local, 'linux_arm64', 'out'), 'utf8')).toBe(`linux/arm64 linux arm64 built on ${host}\n`);
      expect(await readFile(join(local, 'linux_amd64', 'out'), 'utf8')).toBe(`linux/amd64 linux amd64 built on ${host}\n`);
      // platform-split=false: one tree (the last platform's file wins).
      const merged = join(env.out, 'merged');
      expect((await build(['-o', `type=local,dest=${merged},platform-split=false`])).code).toBe(0);
      expect(await readdir(merged)).toEqual(['out']);
      // tar: the same directories.
      const tar = join(env.out, 'multi-rootfs.tar');
      expect((await build(['-o', `type=tar,dest=${tar}`])).code).toBe(0);
      const listing = (await runTool('tar', ['-tf', tar])).stdout.split('\n').filter(Boolean).sort();
      expect(listing).toEqual(['linux_amd64/', 'linux_amd64/out', 'linux_arm64/', 'linux_arm64/out']);

      // docker: a manifest list (Docker media types), manifest.json listing both images.
      const docker = join(env.out, 'multi-docker.tar');
      expect((await build(['-t', 'multi:test', '-o', `type=docker,dest=${docker}`])).code).toBe(0);
      const list = JSON.parse((await runTool('skopeo', ['inspect', '--raw', `oci-archive:${docker}`])).stdout);
      expect(list.mediaType).toBe('application/vnd.docker.distribution.manifest.list.v2+json');
      const manifestJson = JSON.parse((await runTool('tar', ['-xOf', docker, 'manifest.json'])).stdout);
      expect(manifestJson.length).toBe(2);
      expect(manifestJson[0].RepoTags).toEqual(['multi:test']);

      // The image store and a push: the registry serves the index.
      const ref = `${env.reg.ref.split("/")[0]}/multi:pushed`;
      const p = await build(['-t', ref, '--push']);
      if (p.code !== 0) console.error(p.stderr);
      expect(p.code).toBe(0);
      const pushed = JSON.parse((await runTool('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref}`])).stdout);
      expect(pushed.manifests.map((m: { platform: { architecture: string } }) => m.platform.architecture)).toEqual(['amd64', 'arm64']);
      const armCfg = JSON.parse((await runTool('skopeo', ['inspect', '--config', '--tls-verify=false', '--override-arch', 'arm64', `docker://${ref}`])).stdout);
      expect(armCfg.architecture).toBe('arm64');
    } finally {
      await ctx.cleanup();
    }
  }, 120_000);

  test('BUILDKIT_MULTI_PLATFORM=1 makes an index of one platform', async () => {
    const ctx = await makeContext({ Dockerfile: 'FROM scratch\nARG TARGETARCH\nCOPY Dockerfile /\n' });
    try {
      const oci = join(env.out, 'one.tar');
      const r = await runKiln(['build', '--build-arg', 'BUILDKIT_MULTI_PLATFORM=1', '-o', `type=oci,dest=${oci}`, ctx.dir], { root: env.state.root });
      expect(r.code).toBe(0);
      const index = JSON.parse((await runTool('skopeo', ['inspect', '--raw', `oci-archive:${oci}`])).stdout);
      expect(index.manifests.length).toBe(1);
      expect(index.manifests[0].platform.os).toBe('linux');
      await verifyOciArchive(oci);
      // buildctl's spelling: --opt platform=
      const two = join(env.out, 'two.tar');
      const b = await runKiln(['build', '--frontend', 'dockerfile.v0', '--local', `context=${ctx.dir}`, '--local', `dockerfile=${ctx.dir}`, '--opt', 'platform=linux/amd64,linux/arm64', '--output', `type=oci,dest=${two}`], { root: env.state.root });
      if (b.code !== 0) console.error(b.stderr);
      expect(b.code).toBe(0);
      const idx2 = JSON.parse((await runTool('skopeo', ['inspect', '--raw', `oci-archive:${two}`])).stdout);
      expect(idx2.manifests.map((m: { platform: { architecture: string } }) => m.platform.architecture)).toEqual(['amd64', 'arm64']);
    } finally {
      await ctx.cleanup();
    }
  }, 60_000);

  test('a plugin returns a result per platform; with --provenance each image gets its attestation in the index', async () => {
    const ctx = await makeContext({});
    try {
      const plugin = join(ctx.dir, 'per-platform.ts');
      await writeFile(
        plugin,
        `export default {
          name: 'per-platform',
          async build(ctx) {
            const platforms = ctx.opts.platforms.map((p) => ({
              platform: p,
              definition: ctx.llb.scratch().file(ctx.llb.mkfile('/platform', 0o644, p.os + '/' + p.architecture + '\\n')).marshal(),
              config: { architecture: p.architecture, os: p.os, config: {}, rootfs: { type: 'layers', diff_ids: [] } },
            }));
            return { ...platforms[0], platforms };
          },
        };\n`,
      );
      const oci = join(env.out, 'plugin-multi.tar');
      const meta = join(env.out, 'multi-meta.json');
      const r = await runKiln(['build', '--frontend', plugin, '--platform', 'linux/amd64,linux/arm64', '--provenance', 'mode=min', '--metadata-file', meta, '-o', `type=oci,dest=${oci}`, ctx.dir], { root: env.state.root });
      if (r.code !== 0) console.error(r.stderr);
      expect(r.code).toBe(0);
      const index = JSON.parse((await runTool('skopeo', ['inspect', '--raw', `oci-archive:${oci}`])).stdout);
      const kinds = index.manifests.map((m: { platform: { os: string; architecture: string }; annotations?: Record<string, string> }) => `${m.platform.os}/${m.platform.architecture}${m.annotations?.['vnd.docker.reference.type'] ? ' attestation' : ''}`);
      expect(kinds).toEqual(['linux/amd64', 'linux/arm64', 'unknown/unknown attestation', 'unknown/unknown attestation']);
      // each attestation names its image
      expect(index.manifests[2].annotations['vnd.docker.reference.digest']).toBe(index.manifests[0].digest);
      expect(index.manifests[3].annotations['vnd.docker.reference.digest']).toBe(index.manifests[1].digest);
      // --metadata-file: the index is the image (no single config)
      const m = JSON.parse(await readFile(meta, 'utf8'));
      expect(m['containerimage.descriptor'].mediaType).toBe('application/vnd.oci.image.index.v1+json');
      expect(m['containerimage.digest']).toBe(m['containerimage.descriptor'].digest);
      expect(m['containerimage.config.digest']).toBeUndefined();

      const local = join(env.out, 'plugin-local');
      expect((await runKiln(['build', '--frontend', plugin, '--platform', 'linux/amd64,linux/arm64', '-o', `type=local,dest=${local}`, ctx.dir], { root: env.state.root })).code).toBe(0);
      expect(await readFile(join(local, 'linux_arm64', 'platform'), 'utf8')).toBe('linux/arm64\n');
    } finally {
      await ctx.cleanup();
    }
  }, 60_000);
});
