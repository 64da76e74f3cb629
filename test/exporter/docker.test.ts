import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTempDir } from '../../src/util/fs.ts';
import { sha256 } from '../../src/util/digest.ts';
import { createDockerExporter } from '../../src/exporter/docker.ts';
import type { ExportImage } from '../../src/exporter/types.ts';
import { listTar, runTool, verifyDockerArchive, verifyOciArchive } from '../helpers/verify-image.ts';
import { makeImage, sourceOf } from './fixtures.ts';

let dir: string;
let image: ExportImage;

beforeAll(async () => {
  dir = await makeTempDir('kiln-docker-test-');
  image = await makeImage(dir);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function extract(tarPath: string, name: string): Promise<string> {
  const x = join(dir, name);
  await mkdir(x, { recursive: true });
  await runTool('tar', ['-xf', tarPath, '-C', x]);
  return x;
}

describe('docker exporter', () => {
  test('writes a docker-load tar that skopeo accepts, with docker media types', async () => {
    const dest = join(dir, 'image.tar');
    const result = await createDockerExporter({ dest }).export(sourceOf(image, ['app:1.0', 'example.com/team/app']));
    expect(result.kind).toBe('docker');

    const { inspect, config } = await verifyDockerArchive(dest);
    expect(inspect.RepoTags).toEqual([]);
    // docker-archive reports the uncompressed digests (what docker load checks against diff_ids).
    expect(inspect.Layers).toEqual(image.layers.map((l) => l.diffId));
    expect(inspect.Env).toContain('GREETING=hi');
    expect(inspect.Labels).toEqual({ 'org.example.a': '1', 'org.example.b': '2' });
    expect(config.config.Cmd).toEqual(['/bin/sh', '-c', 'cat /etc/hello.txt']);
    expect(config.rootfs.diff_ids).toEqual(image.layers.map((l) => l.diffId));

    const x = await extract(dest, 'x1');
    const manifestJson = JSON.parse(await readFile(join(x, 'manifest.json'), 'utf8'));
    expect(manifestJson).toEqual([
      {
        Config: `blobs/sha256/${result.configDigest!.slice(7)}`,
        RepoTags: ['app:1.0', 'example.com/team/app:latest'],
        Layers: image.layers.map((l) => `blobs/sha256/${l.descriptor.digest.slice(7)}`),
      },
    ]);
    const manifest = JSON.parse(await readFile(join(x, 'blobs', 'sha256', result.manifestDigest!.slice(7)), 'utf8'));
    expect(manifest.mediaType).toBe('application/vnd.docker.distribution.manifest.v2+json');
    expect(manifest.config.mediaType).toBe('application/vnd.docker.container.image.v1+json');
    expect(manifest.layers.map((l: { mediaType: string }) => l.mediaType)).toEqual([
      'application/vnd.docker.image.rootfs.diff.tar.gzip',
      'application/vnd.docker.image.rootfs.diff.tar.gzip',
    ]);
    expect(manifest.annotations).toBeUndefined();

    // It is also an OCI layout, with one index entry per name.
    const index = JSON.parse(await readFile(join(x, 'index.json'), 'utf8'));
    expect(index.manifests.map((m: { annotations: Record<string, string> }) => m.annotations['io.containerd.image.name'])).toEqual([
      'docker.io/library/app:1.0',
      'example.com/team/app:latest',
    ]);
    expect(index.manifests.every((m: { digest: string }) => m.digest === result.manifestDigest)).toBe(true);
    expect(await listTar(dest)).toEqual([
      'blobs/',
      'blobs/sha256/',
      ...[result.manifestDigest!, result.configDigest!, ...image.layers.map((l) => l.descriptor.digest)]
        .map((d) => `blobs/sha256/${d.slice(7)}`)
        .sort(),
      'index.json',
      'manifest.json',
      'oci-layout',
    ]);
  });

  test('skopeo reads it by name, and without names too', async () => {
    const named = join(dir, 'named.tar');
    await createDockerExporter({ dest: named }).export(sourceOf(image, ['app:1.0']));
    const { stdout } = await runTool('skopeo', ['inspect', `docker-archive:${named}:docker.io/library/app:1.0`]);
    expect(JSON.parse(stdout).Layers).toHaveLength(2);

    const unnamed = join(dir, 'unnamed.tar');
    await createDockerExporter({ dest: unnamed }).export(sourceOf(image, []));
    const { inspect } = await verifyDockerArchive(unnamed);
    expect(inspect.Layers).toHaveLength(2);
    const x = await extract(unnamed, 'x2');
    expect(await readFile(join(x, 'manifest.json'), 'utf8')).toStartWith('[{"Config":"blobs/sha256/');
    expect(JSON.parse(await readFile(join(x, 'manifest.json'), 'utf8'))[0].RepoTags).toBeNull();
  });

  test('is deterministic', async () => {
    const a = join(dir, 'det-a.tar');
    const b = join(dir, 'det-b.tar');
    await createDockerExporter({ dest: a }).export(sourceOf(image, ['app:1']));
    await createDockerExporter({ dest: b }).export(sourceOf(image, ['app:1']));
    expect(sha256(await readFile(a))).toBe(sha256(await readFile(b)));
  });

  test('with OCI media types it is still a loadable archive and an OCI layout', async () => {
    const dest = join(dir, 'oci-types.tar');
    await createDockerExporter({ dest, ociMediaTypes: true }).export(sourceOf(image, ['app:1']));
    const { manifest } = await verifyOciArchive(dest);
    expect(manifest.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
    const { inspect } = await verifyDockerArchive(dest);
    expect(inspect.Layers).toHaveLength(2);
  });
});
