/**
 * SLSA provenance stored as BuildKit stores it: an index with the image manifest and an
 * attestation manifest (unknown/unknown, vnd.docker.reference.*, an in-toto layer); min and
 * max modes; provenance.json for local outputs; a pushed attested image pulled back and used
 * as a base; secrets never in the statement.
 */
import { describe, expect, test } from 'bun:test';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeContext, runKiln, tempStateDir } from '../helpers/kiln.ts';
import { useBuildEnv } from '../helpers/build-env.ts';
import { runTool } from '../helpers/verify-image.ts';

const env = useBuildEnv();

const blob = async (layout: string, digest: string) => JSON.parse(await readFile(join(layout, 'blobs', 'sha256', digest.slice(7)), 'utf8'));

describe('provenance', () => {
  test('--attest type=provenance,mode=max: an index with the attestation manifest; the statement names the image and its base', async () => {
    const secret = `s3cr3t-${Math.random().toString(36).slice(2)}`;
    await writeFile(join(env.out, 'secret'), secret);
    const ctx = await makeContext({ Dockerfile: `FROM ${env.reg.ref}\nARG FOO\nRUN --mount=type=secret,id=tok test -s /run/secrets/tok\nCOPY f /f\n`, f: 'x\n' });
    try {
      const tar = join(env.out, 'max.tar');
      const meta = join(env.out, 'meta.json');
      const r = await runKiln(['build', '-t', 'prov:1', '--metadata-file', meta, '--secret', `id=tok,src=${join(env.out, 'secret')}`, '--build-arg', 'FOO=bar', '--attest', 'type=provenance,mode=max', '-o', `type=oci,dest=${tar}`, ctx.dir], { root: env.state.root });
      if (r.code !== 0) console.error(r.stderr);
      expect(r.code).toBe(0);
      const index = JSON.parse((await runTool('skopeo', ['inspect', '--raw', `oci-archive:${tar}`])).stdout);
      expect(index.mediaType).toBe('application/vnd.oci.image.index.v1+json');
      const [img, att] = index.manifests;
      expect(img.platform).toEqual({ architecture: 'amd64', os: 'linux' });
      expect(att.platform).toEqual({ architecture: 'unknown', os: 'unknown' });
      expect(att.annotations).toEqual({ 'vnd.docker.reference.digest': img.digest, 'vnd.docker.reference.type': 'attestation-manifest' });
      expect(JSON.parse(await readFile(meta, 'utf8'))['containerimage.digest']).not.toBe(img.digest);

      const layout = join(env.out, 'max-layout');
      await mkdir(layout);
      await runTool('tar', ['-xf', tar, '-C', layout]);
      const am = await blob(layout, att.digest);
      expect(am.artifactType).toBe('application/vnd.docker.attestation.manifest.v1+json');
      expect(am.subject.digest).toBe(img.digest);
      expect(am.layers[0].mediaType).toBe('application/vnd.in-toto+json');
      expect(am.layers[0].annotations['in-toto.io/predicate-type']).toBe('https://slsa.dev/provenance/v1');
      const st = await blob(layout, am.layers[0].digest);
      expect(st.predicateType).toBe('https://slsa.dev/provenance/v1');
      expect(st.subject[0]).toEqual({ name: 'pkg:docker/docker.io/library/prov@1?platform=linux%2Famd64', digest: { sha256: img.digest.slice(7) } });
      const bd = st.predicate.buildDefinition;
      expect(bd.externalParameters.request.frontend).toBe('dockerfile.v0');
      expect(bd.externalParameters.request.args['build-arg:FOO']).toBe('bar');
      expect(bd.resolvedDependencies).toContainEqual({ uri: `pkg:docker/${env.reg.ref.replace(':latest', '')}@latest?platform=linux%2Famd64`, digest: { sha256: env.reg.manifestDigest.slice(7) } });
      expect(Buffer.from(st.predicate.runDetails.metadata.buildkit_metadata.source.infos[0].data, 'base64').toString()).toContain('ARG FOO');
      // an independent reader selects the platform image through the index
      await runTool('skopeo', ['copy', '--quiet', `oci-archive:${tar}`, `dir:${join(env.out, 'copied')}`]);
      const all = (await runTool('sh', ['-c', `cat ${layout}/blobs/sha256/* ; cat ${tar}`])).stdout;
      expect(all).not.toContain(secret);
    } finally {
      await ctx.cleanup();
    }
  });

  test('--provenance=true is mode=min (no build args); local outputs get provenance.json', async () => {
    const ctx = await makeContext({ Dockerfile: `FROM ${env.reg.ref}\nARG FOO\nCOPY f /f\n`, f: 'x\n' });
    try {
      const dir = join(env.out, 'local-min');
      const r = await runKiln(['build', '--build-arg', 'FOO=bar', '--provenance=true', '-o', `type=local,dest=${dir}`, ctx.dir], { root: env.state.root });
      expect(r.code).toBe(0);
      const st = JSON.parse(await readFile(join(dir, 'provenance.json'), 'utf8'));
      expect(st.predicateType).toBe('https://slsa.dev/provenance/v1');
      expect(st.predicate.buildDefinition.externalParameters.request.args).toBeUndefined();
      expect(st.predicate.runDetails.metadata.buildkit_metadata).toBeUndefined();
      const bad = await runKiln(['build', '--attest', 'type=sbom', ctx.dir], { root: env.state.root });
      expect(bad.code).toBe(2);
    } finally {
      await ctx.cleanup();
    }
  });

  test('a pushed attested image is an index in the registry, and builds FROM it pick the image', async () => {
    const ctx = await makeContext({ Dockerfile: `FROM ${env.reg.ref}\nCOPY f /f\n`, f: 'attested\n' });
    const use = await makeContext({ Dockerfile: `FROM ${env.reg.registry.host}/attested:1\nRUN cat /f > /seen\n` });
    const fresh = await tempStateDir();
    try {
      const name = `${env.reg.registry.host}/attested:1`;
      const p = await runKiln(['build', '-t', name, '--push', '--attest', 'type=provenance', ctx.dir], { root: env.state.root });
      if (p.code !== 0) console.error(p.stderr);
      expect(p.code).toBe(0);
      const raw = JSON.parse((await runTool('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${name}`])).stdout);
      expect(raw.manifests).toHaveLength(2);
      await runTool('skopeo', ['copy', '--quiet', '--src-tls-verify=false', `docker://${name}`, `oci:${join(env.out, 'pulled')}:x`]);
      const dest = join(env.out, 'from-attested');
      const b = await runKiln(['build', '-o', `type=local,dest=${dest}`, use.dir], { root: fresh.root });
      if (b.code !== 0) console.error(b.stderr);
      expect(b.code).toBe(0);
      expect(await readFile(join(dest, 'seen'), 'utf8')).toBe('attested\n');
      const local = await runKiln(['build', '-o', `type=local,dest=${dest}-2`, use.dir], { root: env.state.root });
      expect(local.code).toBe(0);
    } finally {
      await ctx.cleanup();
      await use.cleanup();
      await fresh.cleanup();
    }
  }, 60_000);
});
