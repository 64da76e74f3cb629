/**
 * Cache shared between machines: a build on state dir A exports its cache (registry, local
 * layout, inline in the image); a build of the same Dockerfile on an empty state dir B imports
 * it and runs no RUN step, with the same image digest. Layers of steps B does not need are
 * never downloaded; an edited file runs only the steps after its COPY; a corrupted blob in the
 * registry is detected and its step runs instead.
 */
import { afterEach, beforeEach, describe, expect, test } from 'bun:test';
import { readFile, readdir, rm, writeFile, open } from 'node:fs/promises';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { kilnBin, makeContext, runKiln, tempStateDir, type KilnRun } from '../helpers/kiln.ts';
import { spawn } from 'node:child_process';
import { useBuildEnv } from '../helpers/build-env.ts';
import { pushBusyboxIndex } from '../helpers/busybox-image.ts';
import { runTool } from '../helpers/verify-image.ts';

const env = useBuildEnv();

/** Each test's contexts and state dirs (machine B, C, ...), removed after it. */
function scratch() {
  const cleanups: (() => Promise<void>)[] = [];
  return {
    async context(files: Record<string, string>) {
      const c = await makeContext(files);
      cleanups.push(c.cleanup);
      return c;
    },
    async state() {
      const s = await tempStateDir();
      cleanups.push(s.cleanup);
      return s;
    },
    async cleanup() {
      for (const c of cleanups.reverse()) await c();
    },
  };
}
let tmp: ReturnType<typeof scratch>;
beforeEach(() => {
  tmp = scratch();
});
afterEach(() => tmp.cleanup());

/** The layer digests of an OCI archive's image. */
async function ociLayers(tar: string): Promise<string[]> {
  return JSON.parse((await runTool('skopeo', ['inspect', '--raw', `oci-archive:${tar}`])).stdout).layers.map((l: { digest: string }) => l.digest);
}

/**
 * A two-stage build: `tools` feeds the final stage; `marker` keeps each test's layers its own,
 * the last one too (/ran2): the registry stores blobs once for all repositories, so a test that
 * corrupts a blob in its storage must corrupt one no other test pushes (the last layer used to
 * be the same bytes in every test: a later test then imported the corrupted blob and failed,
 * now and then, when the timestamps lined up).
 */
const dockerfile = (base: string, marker: string) => `FROM ${base} AS tools
RUN echo tools-ran-${marker} && head -c 300000 /dev/urandom > /tool
FROM ${base}
RUN echo step1-ran-${marker} > /s1
COPY a.txt /a.txt
COPY --from=tools /tool /tool
RUN echo step2-ran-${marker} | tee /ran2 && cat /a.txt > /s2
`;

const EPOCH = ['--build-arg', 'SOURCE_DATE_EPOCH=1700000000'];

interface Event { type: string; name?: string; status?: string; message?: string; ran?: number }

function events(r: KilnRun): Event[] {
  return r.stderr.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Event);
}

/** The RUN steps a build executed (from rawjson). */
function ranRuns(r: KilnRun): string[] {
  return events(r).filter((e) => e.type === 'vertex' && e.status === 'started' && /\bRUN\b/.test(e.name ?? '')).map((e) => e.name!);
}

const warnings = (r: KilnRun) => events(r).filter((e) => e.type === 'warning').map((e) => e.message!);

async function build(root: string, ctxDir: string, args: string[], outName: string): Promise<{ run: KilnRun; digest: string }> {
  const meta = join(env.out, `${outName}.json`);
  const run = await runKiln(['build', '--progress=rawjson', ...EPOCH, '--metadata-file', meta, ...args, ctxDir], { root });
  if (run.code !== 0) console.error(run.stderr);
  expect(run.code).toBe(0);
  const digest = JSON.parse(await readFile(meta, 'utf8'))['containerimage.digest'] as string;
  return { run, digest };
}

/** A registry blob, fetched over the API. */
async function registryBlob(repo: string, digest: string): Promise<Uint8Array> {
  const res = await fetch(`${env.reg.registry.url}/v2/${repo}/blobs/${digest}`);
  expect(res.status).toBe(200);
  return new Uint8Array(await res.arrayBuffer());
}

async function blobsIn(root: string): Promise<Set<string>> {
  return new Set((await readdir(join(root, 'content', 'blobs', 'sha256')).catch(() => [])).map((h) => `sha256:${h}`));
}

describe('cache import/export between state dirs', () => {
  test('registry, mode=max: B runs no RUN, same digest; unneeded layers never fetched; an edit runs only later steps', async () => {
    const ctx = await tmp.context({ Dockerfile: dockerfile(env.reg.ref, 'reg'), 'a.txt': 'one\n' });
    // The second machine's checkout: another directory, other file times.
    await new Promise((r) => setTimeout(r, 20));
    const ctx2 = await tmp.context({ Dockerfile: dockerfile(env.reg.ref, 'reg'), 'a.txt': 'one\n' });
    const b = await tmp.state();
    const c = await tmp.state();
    const cacheRef = `${env.reg.registry.host}/app:cache`;
    const a = await build(env.state.root, ctx.dir, ['--cache-to', `type=registry,ref=${cacheRef},mode=max`, '-o', `type=oci,dest=${join(env.out, 'a.tar')}`], 'reg-a');
    expect(ranRuns(a.run).length).toBe(3);
    expect(events(a.run).some((e) => e.type === 'info' && /exported cache to .*mode=max/.test(e.message ?? ''))).toBe(true);

    // The cache manifest: an OCI image manifest whose config is kiln's cache document.
    const manifest = JSON.parse((await runTool('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${cacheRef}`])).stdout);
    expect(manifest.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
    expect(manifest.config.mediaType).toBe('application/vnd.kiln.cache.config.v1+json');
    const doc = JSON.parse(new TextDecoder().decode(await registryBlob('app', manifest.config.digest)));
    expect(doc.layers.map((l: { digest: string }) => l.digest)).toEqual(manifest.layers.map((l: { digest: string }) => l.digest));

    const fresh = await build(b.root, ctx2.dir, ['--cache-from', `type=registry,ref=${cacheRef}`, '-o', `type=oci,dest=${join(env.out, 'b.tar')}`], 'reg-b');
    expect(ranRuns(fresh.run)).toEqual([]);
    expect(events(fresh.run).find((e) => e.type === 'summary')?.ran).toBe(0);
    expect(fresh.digest).toBe(a.digest);
    // Lazy: the tools stage's layer (in the cache, max mode) was not needed, so never downloaded.
    const finalLayers = new Set(await ociLayers(join(env.out, 'b.tar')));
    const unneeded = doc.layers.map((l: { digest: string }) => l.digest).filter((d: string) => !finalLayers.has(d));
    expect(unneeded.length).toBeGreaterThan(0);
    const got = await blobsIn(b.root);
    for (const d of unneeded) expect(got.has(d)).toBe(false);
    // An image export needs the blobs only: no layer was extracted; the store is sound.
    expect((await readdir(join(b.root, 'snapshots'))).filter((n) => !n.startsWith('tmp-'))).toEqual([]);
    expect((await runKiln(['doctor', '--store'], { root: b.root })).code).toBe(0);
    // An output of files extracts them (every layer verified against its diff id).
    const local = join(env.out, 'reg-local');
    await build(b.root, ctx2.dir, ['--cache-from', `type=registry,ref=${cacheRef}`, '-o', `type=local,dest=${local}`], 'reg-b-local');
    expect(await readFile(join(local, 's2'), 'utf8')).toBe('one\n');
    expect((await readFile(join(local, 'tool'))).byteLength).toBe(300000);
    expect((await runKiln(['doctor', '--store'], { root: b.root })).code).toBe(0);

    // One source file changed: only the steps after its COPY run (step1 and the tools stage come from the cache).
    await writeFile(join(ctx2.dir, 'a.txt'), 'two\n');
    const edited = await build(c.root, ctx2.dir, ['--cache-from', `type=registry,ref=${cacheRef}`, '-o', `type=oci,dest=${join(env.out, 'c.tar')}`], 'reg-c');
    expect(ranRuns(edited.run)).toEqual(['[stage-1 5/5] RUN echo step2-ran-reg | tee /ran2 && cat /a.txt > /s2']);
  }, 120_000);

  test('local layout, mode=max and mode=min: B runs no RUN, same digest; min holds only the result\'s layers', async () => {
    const ctx = await tmp.context({ Dockerfile: dockerfile(env.reg.ref, 'local'), 'a.txt': 'one\n' });
    const b = await tmp.state();
    const dir = join(env.out, 'cache-local');
    const a = await build(env.state.root, ctx.dir, ['--cache-to', `type=local,dest=${dir},mode=max`, '--export-cache', `type=local,dest=${dir},tag=min`, '-o', `type=oci,dest=${join(env.out, 'la.tar')}`], 'local-a');
    const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8'));
    expect(index.manifests.map((m: { annotations: Record<string, string> }) => m.annotations['org.opencontainers.image.ref.name']).sort()).toEqual(['latest', 'min']);
    const layersOf = async (tag: string) => {
      const m = index.manifests.find((x: { annotations: Record<string, string> }) => x.annotations['org.opencontainers.image.ref.name'] === tag);
      const man = JSON.parse(await readFile(join(dir, 'blobs', 'sha256', m.digest.slice(7)), 'utf8'));
      return man.layers.map((l: { digest: string }) => l.digest) as string[];
    };
    const imageLayers = await ociLayers(join(env.out, 'la.tar'));
    expect((await layersOf('min')).sort()).toEqual([...imageLayers].sort());
    expect((await layersOf('latest')).length).toBeGreaterThan(imageLayers.length);

    const fresh = await build(b.root, ctx.dir, ['--import-cache', `type=local,src=${dir}`, '-o', `type=oci,dest=${join(env.out, 'lb.tar')}`], 'local-b');
    expect(ranRuns(fresh.run)).toEqual([]);
    expect(fresh.digest).toBe(a.digest);

    // A blob missing from the layout: that record is not used (a warning), its step runs.
    const last = (await ociLayers(join(env.out, 'la.tar'))).pop()!;
    await rm(join(dir, 'blobs', 'sha256', last.slice(7)));
    const c = await tmp.state();
    const missing = await build(c.root, ctx.dir, ['--cache-from', `type=local,src=${dir}`, '-o', `type=oci,dest=${join(env.out, 'lc.tar')}`], 'local-c');
    expect(warnings(missing.run).some((w) => w.includes(`blob ${last} is missing`))).toBe(true);
    expect(ranRuns(missing.run)).toEqual(['[stage-1 5/5] RUN echo step2-ran-local | tee /ran2 && cat /a.txt > /s2']);
  }, 120_000);

  test('inline (BUILDKIT_INLINE_CACHE=1): B imports from the pushed image, runs no RUN, same digest', async () => {
    const ctx = await tmp.context({ Dockerfile: dockerfile(env.reg.ref, 'inline'), 'a.txt': 'one\n' });
    const b = await tmp.state();
    const image = `${env.reg.registry.host}/app:inline`;
    const a = await build(env.state.root, ctx.dir, ['--build-arg', 'BUILDKIT_INLINE_CACHE=1', '-o', `type=image,name=${image},push=true`], 'inline-a');
    const cfg = JSON.parse((await runTool('skopeo', ['inspect', '--config', '--raw', '--tls-verify=false', `docker://${image}`])).stdout);
    expect(cfg['kiln.cache.v1'].records.length).toBeGreaterThan(0);

    const fresh = await build(b.root, ctx.dir, ['--cache-from', image, '--cache-to', 'type=inline', '-o', `type=image,name=${env.reg.registry.host}/app:inline-b,push=true`], 'inline-b');
    expect(ranRuns(fresh.run)).toEqual([]);
    expect(fresh.digest).toBe(a.digest);
  }, 120_000);

  test('a corrupted cache blob in the registry: a warning, and its step runs', async () => {
    const ctx = await tmp.context({ Dockerfile: dockerfile(env.reg.ref, 'corrupt'), 'a.txt': 'one\n' });
    const b = await tmp.state();
    const cacheRef = `${env.reg.registry.host}/app:corrupt`;
    const tar = join(env.out, 'ca.tar');
    await build(env.state.root, ctx.dir, ['--cache-to', `type=registry,ref=${cacheRef},mode=max`, '-o', `type=oci,dest=${tar}`], 'corrupt-a');
    // The last layer (RUN step2): same size, other bytes, in the registry's storage.
    const last = (await ociLayers(tar)).pop()!.slice(7);
    const data = join(env.reg.registry.storageDir, 'docker', 'registry', 'v2', 'blobs', 'sha256', last.slice(0, 2), last, 'data');
    const fh = await open(data, 'r+');
    await fh.write(Buffer.from('corrupted!'), 0, 10, 20);
    await fh.close();

    const fresh = await build(b.root, ctx.dir, ['--cache-from', `type=registry,ref=${cacheRef}`, '-o', `type=oci,dest=${join(env.out, 'cb.tar')}`], 'corrupt-b');
    expect(warnings(fresh.run).some((w) => w.includes('not used') && w.includes('digest mismatch'))).toBe(true);
    expect(ranRuns(fresh.run)).toEqual(['[stage-1 5/5] RUN echo step2-ran-corrupt | tee /ran2 && cat /a.txt > /s2']);
    // Nothing corrupt reached B's store (the step's own layer may have the same digest when its tar is the same).
    const doctor = await runKiln(['doctor', '--store'], { root: b.root });
    expect(doctor.code).toBe(0);
    if ((await blobsIn(b.root)).has(`sha256:${last}`)) {
      expect(createHash('sha256').update(await readFile(join(b.root, 'content', 'blobs', 'sha256', last))).digest('hex')).toBe(last);
    }
  }, 120_000);

  test('options: several sources (a missing one warns), an index (image-manifest=false), zstd, local digest=, ignore-error', async () => {
    const ctx = await tmp.context({ Dockerfile: dockerfile(env.reg.ref, 'opts'), 'a.txt': 'one\n' });
    const b = await tmp.state();
    const c = await tmp.state();
    const d = await tmp.state();
    const host = env.reg.registry.host;
    const dir = join(env.out, 'cache-opts');
    const a = await build(env.state.root, ctx.dir, [
      '--cache-to', `type=registry,ref=${host}/app:index,mode=max,image-manifest=false,compression=zstd`,
      '--cache-to', `type=local,dest=${dir}`,
      '--cache-to', `type=registry,ref=${host}/app:docker,oci-mediatypes=false`,
      '-o', `type=oci,dest=${join(env.out, 'oa.tar')}`,
    ], 'opts-a');
    // oci-mediatypes=false: a Docker manifest list, its layers with Docker media types.
    const list = JSON.parse((await runTool('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${host}/app:docker`])).stdout);
    expect(list.mediaType).toBe('application/vnd.docker.distribution.manifest.list.v2+json');
    expect(list.manifests.map((m: { mediaType: string }) => m.mediaType)).toContain('application/vnd.docker.image.rootfs.diff.tar.gzip');
    const fromList = await build(d.root, ctx.dir, ['--cache-from', `${host}/app:docker`, '-o', `type=oci,dest=${join(env.out, 'od.tar')}`], 'opts-d');
    expect(ranRuns(fromList.run)).toEqual([]);
    const index = JSON.parse((await runTool('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${host}/app:index`])).stdout);
    expect(index.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    const kinds = index.manifests.map((m: { mediaType: string }) => m.mediaType);
    expect(kinds).toContain('application/vnd.kiln.cache.config.v1+json');
    // Layers this build made are zstd; the base image's keep their gzip blob (no force-compression).
    expect(kinds).toContain('application/vnd.oci.image.layer.v1.tar+zstd');

    // The first source does not exist: a warning, then the second serves every step.
    const fresh = await build(b.root, ctx.dir, ['--cache-from', `${host}/app:nothing-here`, '--cache-from', `type=registry,ref=${host}/app:index`, '-o', `type=oci,dest=${join(env.out, 'ob.tar')}`], 'opts-b');
    expect(warnings(fresh.run).some((w) => w.includes(`${host}/app:nothing-here`))).toBe(true);
    expect(ranRuns(fresh.run)).toEqual([]);
    // zstd cache layers, so the image's layers are those blobs: another digest than A's gzip image, same content.
    expect(fresh.digest).not.toBe(a.digest);

    // local, by manifest digest.
    const localIndex = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8'));
    const fromDigest = await build(c.root, ctx.dir, ['--cache-from', `type=local,src=${dir},digest=${localIndex.manifests[0].digest}`, '-o', `type=oci,dest=${join(env.out, 'oc.tar')}`], 'opts-c');
    expect(ranRuns(fromDigest.run)).toEqual([]);
    expect(fromDigest.digest).toBe(a.digest);

    // An export that cannot reach its registry fails the build, unless ignore-error=true.
    const dead = '127.0.0.1:9/app:cache';
    const failed = await runKiln(['build', '--progress=plain', '--cache-to', `type=registry,ref=${dead}`, ctx.dir], { root: c.root });
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain(`exporting cache to ${dead}`);
    const ignored = await runKiln(['build', '--progress=plain', '--cache-to', `type=registry,ref=${dead},ignore-error=true`, ctx.dir], { root: c.root });
    expect(ignored.code).toBe(0);
    expect(ignored.stderr).toContain('failed (ignore-error=true)');
  }, 120_000);

  test('SIGKILL while an import downloads layers: the next build imports again and the store is sound', async () => {
    const ctx = await tmp.context({ Dockerfile: `FROM ${env.reg.ref}\nRUN head -c 50000000 /dev/urandom > /big && echo big-ran\nRUN echo after > /after\n` });
    const b = await tmp.state();
    const cacheRef = `${env.reg.registry.host}/app:kill`;
    await build(env.state.root, ctx.dir, ['--cache-to', `type=registry,ref=${cacheRef},mode=max`], 'kill-a');
    const child = spawn(kilnBin, ['build', '--progress=plain', '--cache-from', cacheRef, ctx.dir], { env: { ...process.env, KILN_ROOT: b.root }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c) => (err += c));
    for (let i = 0; i < 200 && !err.includes('pulling'); i++) await new Promise((r) => setTimeout(r, 10));
    child.kill('SIGKILL');
    await new Promise((r) => child.on('close', r));
    const again = await build(b.root, ctx.dir, ['--cache-from', cacheRef, '-o', `type=oci,dest=${join(env.out, 'kill.tar')}`], 'kill-b');
    expect(ranRuns(again.run)).toEqual([]);
    expect((await runKiln(['doctor', '--store'], { root: b.root })).code).toBe(0);
  }, 120_000);

  test('a record that lies about a layer\'s uncompressed digest: caught when extracted, dropped, never used again', async () => {
    const ctx = await tmp.context({ Dockerfile: dockerfile(env.reg.ref, 'lie'), 'a.txt': 'one\n' });
    const b = await tmp.state();
    const dir = join(env.out, 'cache-lie');
    const tar = join(env.out, 'lie-a.tar');
    await build(env.state.root, ctx.dir, ['--cache-to', `type=local,dest=${dir},mode=max`, '-o', `type=oci,dest=${tar}`], 'lie-a');
    // Rewrite the document: the last layer (RUN step2) claims another diff id.
    const last = (await ociLayers(tar)).pop()!;
    const blob = (d: string) => join(dir, 'blobs', 'sha256', d.slice(7));
    const put = async (bytes: string) => {
      const d = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
      await writeFile(blob(d), bytes);
      return { digest: d, size: Buffer.byteLength(bytes) };
    };
    const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8'));
    const manifest = JSON.parse(await readFile(blob(index.manifests[0].digest), 'utf8'));
    const doc = JSON.parse(await readFile(blob(manifest.config.digest), 'utf8'));
    for (const l of doc.layers) if (l.digest === last) l.diffId = `sha256:${'e'.repeat(64)}`;
    manifest.config = { ...manifest.config, ...(await put(JSON.stringify(doc))) };
    index.manifests[0] = { ...index.manifests[0], ...(await put(JSON.stringify(manifest))) };
    await writeFile(join(dir, 'index.json'), JSON.stringify(index));

    const local = join(env.out, 'lie-local');
    const first = await runKiln(['build', '--progress=plain', '--cache-from', `type=local,src=${dir}`, '-o', `type=local,dest=${local}`, ctx.dir], { root: b.root });
    expect(first.code).toBe(1);
    expect(first.stderr).toContain(`layer ${last} unpacks to`);
    // The next build does not use that record (a warning) and runs the step.
    const again = await build(b.root, ctx.dir, ['--cache-from', `type=local,src=${dir}`, '-o', `type=local,dest=${local}`], 'lie-b');
    expect(warnings(again.run).some((w) => w.includes('not to be what its record says'))).toBe(true);
    expect(ranRuns(again.run)).toEqual(['[stage-1 5/5] RUN echo step2-ran-lie | tee /ran2 && cat /a.txt > /s2']);
    expect(await readFile(join(local, 's2'), 'utf8')).toBe('one\n');
    expect((await runKiln(['doctor', '--store'], { root: b.root })).code).toBe(0);
  }, 120_000);

  test('multi-platform inline: each image of the index carries its records; B makes the same index without running a step', async () => {
    const multi = await pushBusyboxIndex(env.reg.registry);
    const ctx = await tmp.context({
      Dockerfile: `FROM --platform=$BUILDPLATFORM ${env.reg.ref} AS build\nARG TARGETARCH\nRUN echo built-for-$TARGETARCH > /out\nFROM ${multi}\nCOPY --from=build /out /out\nCOPY a.txt /a\n`,
      'a.txt': 'x',
    });
    const b = await tmp.state();
    const image = `${env.reg.registry.host}/app:multi`;
    const platforms = ['--platform', 'linux/amd64,linux/arm64'];
    const a = await build(env.state.root, ctx.dir, [...platforms, '--build-arg', 'BUILDKIT_INLINE_CACHE=1', '-o', `type=image,name=${image},push=true`], 'multi-a');
    const fresh = await build(b.root, ctx.dir, [...platforms, '--cache-from', image, '--cache-to', 'type=inline', '-o', `type=image,name=${image}-b,push=true`], 'multi-b');
    expect(ranRuns(fresh.run)).toEqual([]);
    expect(events(fresh.run).find((e) => e.type === 'summary')?.ran).toBe(0);
    expect(fresh.digest).toBe(a.digest);
  }, 120_000);
});
