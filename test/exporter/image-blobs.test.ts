import { describe, expect, test } from 'bun:test';
import { sha256, type Digest } from '../../src/util/digest.ts';
import { buildImageBlobs, convertLayerMediaType } from '../../src/exporter/image-blobs.ts';
import { encodeGoJson } from '../../src/exporter/canonical-json.ts';
import { familiarImageName, normalizeImageName, ociRefName } from '../../src/exporter/image-name.ts';
import type { ExportImage } from '../../src/exporter/types.ts';

const D1 = sha256('layer-1-blob');
const D2 = sha256('layer-2-blob');
const U1 = sha256('layer-1-tar');
const U2 = sha256('layer-2-tar');
const text = (b: Uint8Array) => new TextDecoder().decode(b);

function image(over: Partial<ExportImage> = {}): ExportImage {
  return {
    layers: [
      { descriptor: { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: D1, size: 10, annotations: { 'containerd.io/uncompressed': U1 } }, diffId: U1, blobPath: '/x1' },
      { descriptor: { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: D2, size: 20 }, diffId: U2, blobPath: '/x2' },
    ],
    config: {
      os: 'linux',
      architecture: 'arm64',
      variant: 'v8',
      created: '2024-01-02T03:04:05Z',
      config: { Labels: { b: '2', a: '1' }, Cmd: ['sh'], Env: ['A=<&>'], User: '', Shell: ['/bin/sh', '-c'] },
      rootfs: { type: 'layers', diff_ids: [U1, U2] },
      history: [{ created_by: 'RUN x', created: '2024-01-02T03:04:05Z', empty_layer: false }],
    },
    annotations: { 'z.last': '1', 'a.first': '2' },
    ...over,
  };
}

describe('buildImageBlobs', () => {
  test('config: sorted top-level keys, struct order inside, omitempty, Go escaping', () => {
    const { config } = buildImageBlobs(image());
    expect(text(config.bytes)).toBe(
      '{"architecture":"arm64","config":{"Env":["A=\\u003c\\u0026\\u003e"],"Cmd":["sh"],"Labels":{"a":"1","b":"2"},"Shell":["/bin/sh","-c"]},' +
        '"created":"2024-01-02T03:04:05Z","history":[{"created":"2024-01-02T03:04:05Z","created_by":"RUN x"}],"os":"linux",' +
        `"rootfs":{"type":"layers","diff_ids":["${U1}","${U2}"]},"variant":"v8"}`,
    );
    expect(config.descriptor).toEqual({ mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config.bytes), size: config.bytes.byteLength });
  });

  test('manifest: spec field order, annotations sorted, internal annotations dropped', () => {
    const { manifest, config } = buildImageBlobs(image());
    const cd = config.descriptor;
    expect(text(manifest.bytes)).toBe(
      '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",' +
        `"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"${cd.digest}","size":${cd.size}},` +
        `"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"${D1}","size":10},` +
        `{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"${D2}","size":20}],` +
        '"annotations":{"a.first":"2","z.last":"1"}}',
    );
    expect(manifest.descriptor.digest).toBe(sha256(manifest.bytes));
  });

  test('docker media types convert layers, config and manifest, and drop manifest annotations', () => {
    const blobs = buildImageBlobs(image(), { ociMediaTypes: false });
    const m = JSON.parse(text(blobs.manifest.bytes));
    expect(m.mediaType).toBe('application/vnd.docker.distribution.manifest.v2+json');
    expect(m.config.mediaType).toBe('application/vnd.docker.container.image.v1+json');
    expect(m.layers.map((l: { mediaType: string }) => l.mediaType)).toEqual([
      'application/vnd.docker.image.rootfs.diff.tar.gzip',
      'application/vnd.docker.image.rootfs.diff.tar',
    ]);
    expect(m.annotations).toBeUndefined();
    expect(blobs.manifest.descriptor.mediaType).toBe(m.mediaType);
    // The config bytes do not depend on the media-type family.
    expect(blobs.config.bytes).toEqual(buildImageBlobs(image()).config.bytes);
  });

  test('layer media type conversion both ways', () => {
    expect(convertLayerMediaType('application/vnd.docker.image.rootfs.diff.tar.gzip', true)).toBe('application/vnd.oci.image.layer.v1.tar+gzip');
    expect(convertLayerMediaType('application/vnd.oci.image.layer.v1.tar+zstd', false)).toBe('application/vnd.docker.image.rootfs.diff.tar.zstd');
    expect(convertLayerMediaType('application/vnd.oci.image.layer.nondistributable.v1.tar+gzip', false)).toBe(
      'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
    );
    expect(convertLayerMediaType('application/vnd.docker.image.rootfs.foreign.diff.tar.gzip', true)).toBe(
      'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
    );
    expect(() => convertLayerMediaType('text/plain', true)).toThrow(/unknown layer media type/);
  });

  test('unknown config fields are kept: top level sorted in, nested after the known ones', () => {
    const img = image();
    (img.config as unknown as Record<string, unknown>)['moby.buildkit.cache.v0'] = 'x';
    (img.config.config as Record<string, unknown>)['Aaa'] = 1;
    const s = text(buildImageBlobs(img).config.bytes);
    expect(s).toContain('"history":[{"created":"2024-01-02T03:04:05Z","created_by":"RUN x"}],"moby.buildkit.cache.v0":"x","os":"linux"');
    expect(s).toContain('"Shell":["/bin/sh","-c"],"Aaa":1}');
  });

  test('rootfs.diff_ids must list the layers', () => {
    const img = image();
    img.config = { ...img.config, rootfs: { type: 'layers', diff_ids: [U2, U1] } };
    expect(() => buildImageBlobs(img)).toThrow(/diff_ids/);
    expect(() => buildImageBlobs(image({ layers: [] }))).toThrow(/diff_ids/);
  });

  test('is a pure function of the image', () => {
    const a = buildImageBlobs(image());
    const b = buildImageBlobs(structuredClone(image()));
    expect(a.manifest.descriptor.digest).toBe(b.manifest.descriptor.digest as Digest);
  });
});

describe('encodeGoJson', () => {
  test('escapes like Go and sorts map keys by bytes', () => {
    expect(encodeGoJson({ b: 1, a: ['<\u2028>', null, true], Z: { y: 'é' } })).toBe('{"Z":{"y":"é"},"a":["\\u003c\\u2028\\u003e",null,true],"b":1}');
  });
});

describe('image names', () => {
  test('normalized, familiar and OCI ref names', () => {
    expect(normalizeImageName('app')).toBe('docker.io/library/app:latest');
    expect(normalizeImageName('me/app:1')).toBe('docker.io/me/app:1');
    expect(normalizeImageName('localhost:5000/app')).toBe('localhost:5000/app:latest');
    expect(familiarImageName('docker.io/library/app:latest')).toBe('app:latest');
    expect(familiarImageName('example.com/a/b:2')).toBe('example.com/a/b:2');
    expect(ociRefName('docker.io/library/app:latest')).toBe('latest');
    expect(ociRefName('localhost:5000/app:v1')).toBe('v1');
    const d = sha256('x');
    expect(ociRefName(`example.com/app:v1@${d}`)).toBe(`v1@${d}`);
    expect(ociRefName(`example.com/app@${d}`)).toBe(`@${d}`);
    expect(() => normalizeImageName('UPPER')).toThrow();
  });
});
