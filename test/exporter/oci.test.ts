import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdir, readFile, readdir, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { makeTempDir } from '../../src/util/fs.ts';
import { sha256 } from '../../src/util/digest.ts';
import { createOciExporter } from '../../src/exporter/oci.ts';
import type { ExportImage } from '../../src/exporter/types.ts';
import { listTar, runTool, verifyOciArchive } from '../helpers/verify-image.ts';
import { makeImage, sourceOf } from './fixtures.ts';

let dir: string;
let image: ExportImage;

beforeAll(async () => {
  dir = await makeTempDir('kiln-oci-test-');
  image = await makeImage(dir);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('oci exporter', () => {
  test('writes a layout tar that skopeo and umoci accept', async () => {
    const dest = join(dir, 'out', 'image.tar');
    const result = await createOciExporter({ dest }).export(sourceOf(image, ['example.com/team/app:1.0']));
    expect(result.kind).toBe('oci');
    expect(result.dest).toBe(dest);

    let seen: string[] = [];
    const { manifest, config } = await verifyOciArchive(dest, {
      onRootfs: async (rootfs) => {
        seen = (await readdir(join(rootfs, 'etc'))).sort();
        expect(await readFile(join(rootfs, 'etc', 'hello.txt'), 'utf8')).toBe('hello\n');
        expect(await readlink(join(rootfs, 'bin', 'hello-link'))).toBe('/etc/hello.txt');
        expect((await stat(join(rootfs, 'app', 'data.bin'))).size).toBe(300_000);
        expect((await stat(join(rootfs, 'app', 'data.bin'))).mode & 0o777).toBe(0o600);
      },
    });
    expect(seen).toEqual(['hello.txt', 'second.txt']);
    expect(manifest.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
    expect(manifest.config.mediaType).toBe('application/vnd.oci.image.config.v1+json');
    expect(manifest.layers.map((l: { digest: string }) => l.digest)).toEqual(image.layers.map((l) => l.descriptor.digest));
    expect(manifest.annotations).toEqual({ 'org.opencontainers.image.title': 'kiln-test' });
    expect(config.config.Env).toContain('GREETING=hi');
    expect(config.config.Cmd).toEqual(['/bin/sh', '-c', 'cat /etc/hello.txt']);
    expect(config.config.Labels).toEqual({ 'org.example.a': '1', 'org.example.b': '2' });
    expect(config.history).toHaveLength(3);
    expect(config.rootfs.diff_ids).toEqual(image.layers.map((l) => l.diffId));
    expect(result.manifestDigest).toBe(sha256(JSON.stringify(manifest)) as typeof result.manifestDigest);
  });

  test('tar entries are sorted like containerd writes them, and index.json names the first image', async () => {
    const dest = join(dir, 'names.tar');
    const result = await createOciExporter({ dest }).export(sourceOf(image, ['app', 'example.com/other:2']));
    const names = await listTar(dest);
    expect(names.slice(0, 2)).toEqual(['blobs/', 'blobs/sha256/']);
    expect(names.slice(-2)).toEqual(['index.json', 'oci-layout']);
    expect(names).toHaveLength(2 + 4 + 2);
    expect([...names].sort()).toEqual(names);

    const x = join(dir, 'names-x');
    await mkdir(x);
    await runTool('tar', ['-xf', dest, '-C', x]);
    const index = JSON.parse(await readFile(join(x, 'index.json'), 'utf8'));
    expect(index.schemaVersion).toBe(2);
    expect(index.manifests).toHaveLength(1);
    expect(index.manifests[0].digest).toBe(result.manifestDigest);
    expect(index.manifests[0].annotations).toEqual({
      'io.containerd.image.name': 'docker.io/library/app:latest',
      'org.opencontainers.image.ref.name': 'latest',
    });
    expect(await readFile(join(x, 'oci-layout'), 'utf8')).toBe('{"imageLayoutVersion":"1.0.0"}');
    expect(await readFile(join(x, 'manifest.json')).catch(() => null)).toBeNull();
  });

  test('is deterministic: two exports give identical bytes', async () => {
    const a = join(dir, 'det-a.tar');
    const b = join(dir, 'det-b.tar');
    await createOciExporter({ dest: a }).export(sourceOf(image, ['app:1']));
    await createOciExporter({ dest: b }).export(sourceOf(image, ['app:1']));
    expect(sha256(await readFile(a))).toBe(sha256(await readFile(b)));
  });

  test("dest '-' writes the tar to the given stdout stream", async () => {
    const chunks: Buffer[] = [];
    const stdout = new Writable({
      write(chunk: Buffer, _e, cb) {
        chunks.push(chunk);
        cb();
      },
    });
    let ended = false;
    stdout.on('finish', () => (ended = true));
    const result = await createOciExporter({ dest: '-', stdout }).export(sourceOf(image, []));
    expect(result.dest).toBe('-');
    expect(ended).toBe(false);
    const file = join(dir, 'stdout.tar');
    await writeFile(file, Buffer.concat(chunks));
    const fileDest = join(dir, 'stdout-ref.tar');
    await createOciExporter({ dest: fileDest }).export(sourceOf(image, []));
    expect(sha256(await readFile(file))).toBe(sha256(await readFile(fileDest)));
    const { manifest } = await verifyOciArchive(file);
    expect(manifest.layers).toHaveLength(2);
  });

  test('tar=false writes a layout directory, and a second image is added beside the first', async () => {
    const dest = join(dir, 'layout-dir');
    const r1 = await createOciExporter({ dest, tar: false }).export(sourceOf(image, ['app:1']));
    const other: ExportImage = { ...image, annotations: { 'org.opencontainers.image.title': 'other' } };
    const r2 = await createOciExporter({ dest, tar: false }).export(sourceOf(other, ['app:2']));
    const again = await createOciExporter({ dest, tar: false }).export(sourceOf(image, ['app:1']));
    expect(again.manifestDigest).toBe(r1.manifestDigest!);
    const index = JSON.parse(await readFile(join(dest, 'index.json'), 'utf8'));
    expect(index.manifests.map((m: { annotations: Record<string, string> }) => m.annotations['org.opencontainers.image.ref.name'])).toEqual(['2', '1']);
    expect(index.manifests.map((m: { digest: string }) => m.digest)).toEqual([r2.manifestDigest, r1.manifestDigest]);
    const { stdout } = await runTool('skopeo', ['inspect', '--raw', `oci:${dest}:1`]);
    expect(JSON.parse(stdout).annotations['org.opencontainers.image.title']).toBe('kiln-test');
    const bundle = join(dir, 'layout-dir-bundle');
    try {
      await runTool('umoci', ['unpack', '--image', `${dest}:2`, bundle]);
      expect(await readFile(join(bundle, 'rootfs', 'etc', 'second.txt'), 'utf8')).toBe('second <layer> & more\n');
    } finally {
      await rm(bundle, { recursive: true, force: true });
    }
    const leftovers = (await readdir(join(dest, 'blobs', 'sha256'))).filter((n) => n.includes('.tmp-'));
    expect(leftovers).toEqual([]);
  });

  test('a corrupt blob fails the export and leaves nothing at dest', async () => {
    const bad = join(dir, 'bad-layer.tar.gz');
    const good = await readFile(image.layers[1]!.blobPath);
    const flipped = Buffer.from(good);
    const at = flipped.length - 10;
    flipped[at] = flipped[at]! ^ 0xff;
    await writeFile(bad, flipped);
    const broken: ExportImage = { ...image, layers: [image.layers[0]!, { ...image.layers[1]!, blobPath: bad }] };
    const dest = join(dir, 'corrupt', 'image.tar');
    await expect(createOciExporter({ dest }).export(sourceOf(broken, []))).rejects.toThrow(/is corrupt/);
    expect(await readdir(join(dir, 'corrupt'))).toEqual([]);
  });

  test('rejects bad options and bad names', async () => {
    expect(() => createOciExporter({ dest: '' })).toThrow(/dest/);
    expect(() => createOciExporter({ dest: '-', tar: false })).toThrow(/directory/);
    await expect(createOciExporter({ dest: join(dir, 'x.tar') }).export(sourceOf(image, ['Bad/Name']))).rejects.toThrow(/lowercase/);
  });
});
