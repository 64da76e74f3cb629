import { describe, expect, test } from 'bun:test';
import {
  isIndexMediaType, isLayerMediaType, isManifestMediaType, isNonDistributable, layerCompression, layerMediaType,
  mediaFamily, DOCKER_FOREIGN_LAYER, DOCKER_LAYER_GZIP, DOCKER_MANIFEST_LIST, OCI_LAYER_ZSTD, OCI_MANIFEST,
} from '../../src/oci/media-types.ts';
import { parseImageConfig, parseImageIndex, parseImageManifest } from '../../src/oci/types.ts';

const D1 = 'sha256:' + '1'.repeat(64);
const D2 = 'sha256:' + '2'.repeat(64);

describe('image config', () => {
  test('reads a Docker config with nulls and keeps unknown fields', () => {
    const raw = {
      architecture: 'amd64',
      os: 'linux',
      docker_version: '24.0.0',
      container_config: { Hostname: 'x' },
      config: { Env: ['A=1'], Cmd: null, Entrypoint: null, Labels: null, Volumes: null, OnBuild: null, Image: 'sha256:x' },
      rootfs: { type: 'layers', diff_ids: [D1] },
      history: [{ created: '2024-01-01T00:00:00Z', created_by: '/bin/sh -c #(nop) ADD', empty_layer: true }],
    };
    const c = parseImageConfig(new TextEncoder().encode(JSON.stringify(raw)));
    expect(c.config.Env).toEqual(['A=1']);
    expect(c.config.Cmd).toBeUndefined();
    expect(JSON.parse(JSON.stringify(c)).config).toEqual({ Env: ['A=1'], Image: 'sha256:x' });
    expect((c as unknown as Record<string, unknown>).docker_version).toBe('24.0.0');
    expect(c.rootfs.diff_ids).toEqual([D1 as never]);
    expect(c.history?.[0]?.empty_layer).toBe(true);
  });
  test('a missing config section reads as empty', () => {
    const c = parseImageConfig({ architecture: 'arm64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } });
    expect(c.config).toEqual({});
  });
  test('names the bad field', () => {
    expect(() => parseImageConfig({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: ['sha256:nope'] } })).toThrow(
      /invalid image config: rootfs\.diff_ids\.0: not a sha256 digest/,
    );
    expect(() => parseImageConfig('{')).toThrow(/invalid image config: not JSON/);
    expect(() => parseImageConfig({ os: 'linux', rootfs: { type: 'layers', diff_ids: [] } })).toThrow(/architecture/);
  });
});

describe('manifests and indexes', () => {
  test('manifest', () => {
    const m = parseImageManifest({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: D1, size: 10 },
      layers: [{ mediaType: DOCKER_LAYER_GZIP, digest: D2, size: 20, urls: null }],
      annotations: { a: 'b' },
    });
    expect(m.layers[0]!.digest).toBe(D2 as never);
    expect(m.layers[0]!.urls).toBeUndefined();
    expect(() => parseImageManifest({ schemaVersion: 1, config: {}, layers: [] })).toThrow(/schemaVersion/);
    expect(() => parseImageManifest({ schemaVersion: 2, config: { mediaType: 'x', digest: D1, size: -1 }, layers: [] })).toThrow(/config\.size/);
  });
  test('index', () => {
    const i = parseImageIndex({
      schemaVersion: 2,
      mediaType: DOCKER_MANIFEST_LIST,
      manifests: [{ mediaType: OCI_MANIFEST, digest: D1, size: 1, platform: { os: 'linux', architecture: 'arm', variant: 'v7' } }],
    });
    expect(i.manifests[0]!.platform).toEqual({ os: 'linux', architecture: 'arm', variant: 'v7' });
  });
});

describe('media types', () => {
  test('families, kinds and compression', () => {
    expect(mediaFamily(OCI_MANIFEST)).toBe('oci');
    expect(mediaFamily(DOCKER_MANIFEST_LIST)).toBe('docker');
    expect(isIndexMediaType(`${DOCKER_MANIFEST_LIST}; charset=utf-8`)).toBe(true);
    expect(isManifestMediaType('application/vnd.docker.distribution.manifest.v2+json')).toBe(true);
    expect(isManifestMediaType(DOCKER_MANIFEST_LIST)).toBe(false);
    expect(layerCompression(DOCKER_LAYER_GZIP)).toBe('gzip');
    expect(layerCompression(OCI_LAYER_ZSTD)).toBe('zstd');
    expect(layerCompression('application/vnd.oci.image.layer.v1.tar')).toBe('none');
    expect(layerCompression('application/json')).toBeUndefined();
    expect(isLayerMediaType(DOCKER_FOREIGN_LAYER)).toBe(true);
    expect(isNonDistributable(DOCKER_FOREIGN_LAYER)).toBe(true);
    expect(isNonDistributable(DOCKER_LAYER_GZIP)).toBe(false);
    expect(layerMediaType('docker', 'gzip')).toBe(DOCKER_LAYER_GZIP);
    expect(layerMediaType('oci', 'zstd')).toBe(OCI_LAYER_ZSTD);
  });
});
