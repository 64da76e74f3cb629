/**
 * Test images for the exporter tests: real gzip layer blobs made with tar-stream + zlib,
 * written as files (like the content store holds them), and a complete config.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { pack as tarPack } from 'tar-stream';
import { createDigester } from '../../src/util/digest.ts';
import type { ImageConfig } from '../../src/oci/types.ts';
import type { ExportImage, ExportLayer, ExportSource } from '../../src/exporter/types.ts';

export type FixtureEntry =
  | { name: string; type: 'directory'; mode?: number }
  | { name: string; type: 'file'; content: string | Uint8Array; mode?: number }
  | { name: string; type: 'symlink'; target: string };

const MTIME = new Date('2024-01-02T03:04:05Z');

function digestingPassThrough(d: ReturnType<typeof createDigester>): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      d.update(chunk);
      cb(null, chunk);
    },
  });
}

/** Writes a gzip layer blob with `entries` into `dir` and returns its ExportLayer. */
export async function makeLayer(dir: string, name: string, entries: FixtureEntry[]): Promise<ExportLayer> {
  const pack = tarPack();
  for (const e of entries) {
    if (e.type === 'directory') pack.entry({ name: e.name, type: 'directory', mode: e.mode ?? 0o755, mtime: MTIME });
    else if (e.type === 'symlink') pack.entry({ name: e.name, type: 'symlink', linkname: e.target, mode: 0o777, mtime: MTIME });
    else pack.entry({ name: e.name, type: 'file', mode: e.mode ?? 0o644, mtime: MTIME }, Buffer.from(e.content));
  }
  pack.finalize();
  const diff = createDigester();
  const blob = createDigester();
  const blobPath = join(dir, `${name}.tar.gz`);
  await pipeline(pack, digestingPassThrough(diff), createGzip(), digestingPassThrough(blob), createWriteStream(blobPath));
  return {
    descriptor: { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: blob.digest(), size: blob.size },
    diffId: diff.digest(),
    blobPath,
  };
}

/** A two-layer image: dirs, files, a symlink; config with Env, Cmd, Labels, history. */
export async function makeImage(dir: string): Promise<ExportImage> {
  const big = new Uint8Array(300_000).map((_, i) => (i * 7919) % 251);
  const l1 = await makeLayer(dir, 'layer1', [
    { name: 'etc', type: 'directory' },
    { name: 'etc/hello.txt', type: 'file', content: 'hello\n' },
    { name: 'bin', type: 'directory' },
    { name: 'bin/hello-link', type: 'symlink', target: '/etc/hello.txt' },
    { name: 'app', type: 'directory', mode: 0o750 },
    { name: 'app/data.bin', type: 'file', content: big, mode: 0o600 },
  ]);
  const l2 = await makeLayer(dir, 'layer2', [
    { name: 'etc', type: 'directory' },
    { name: 'etc/second.txt', type: 'file', content: 'second <layer> & more\n' },
  ]);
  const config: ImageConfig = {
    created: '2024-01-02T03:04:05Z',
    architecture: 'amd64',
    os: 'linux',
    config: {
      Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'GREETING=hi'],
      Cmd: ['/bin/sh', '-c', 'cat /etc/hello.txt'],
      WorkingDir: '/app',
      Labels: { 'org.example.b': '2', 'org.example.a': '1' },
    },
    rootfs: { type: 'layers', diff_ids: [l1.diffId, l2.diffId] },
    history: [
      { created: '2024-01-02T03:04:05Z', created_by: 'ADD layer1 /' },
      { created: '2024-01-02T03:04:05Z', created_by: 'ENV GREETING=hi', empty_layer: true },
      { created: '2024-01-02T03:04:05Z', created_by: 'COPY second.txt /etc/' },
    ],
  };
  return { layers: [l1, l2], config, annotations: { 'org.opencontainers.image.title': 'kiln-test' } };
}

/** An ExportSource whose rootfs is a plain directory (no-op release). */
export function sourceOf(image: ExportImage, names: string[], rootfsDir = '/nonexistent'): ExportSource {
  return {
    image,
    names,
    openRootfs: async () => ({ dir: rootfsDir, release: async () => {} }),
  };
}

/** A small root filesystem tree on disk with the kinds of entries exporters must keep. */
export async function makeRootfsDir(dir: string): Promise<void> {
  await mkdir(join(dir, 'etc'), { recursive: true });
  await mkdir(join(dir, 'app', 'deep', 'er'), { recursive: true });
  await writeFile(join(dir, 'etc', 'hello.txt'), 'hello\n');
  await writeFile(join(dir, 'app', 'deep', 'er', 'file.txt'), 'deep\n');
  await symlink('/etc/hello.txt', join(dir, 'etc', 'abs-link'));
  await symlink('../etc/hello.txt', join(dir, 'app', 'rel-link'));
}
