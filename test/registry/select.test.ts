import { describe, expect, test } from 'bun:test';
import { OCI_INDEX, OCI_MANIFEST } from '../../src/oci/media-types.ts';
import { parsePlatform, type Platform } from '../../src/oci/platform.ts';
import type { Descriptor, ImageIndex } from '../../src/oci/types.ts';
import { selectPlatformManifest } from '../../src/registry/index.ts';
import { sha256 } from '../../src/util/digest.ts';

const desc = (name: string, platform?: Platform, annotations?: Record<string, string>): Descriptor => ({
  mediaType: OCI_MANIFEST,
  digest: sha256(name),
  size: 1,
  ...(platform ? { platform } : {}),
  ...(annotations ? { annotations } : {}),
});

const index = (...manifests: Descriptor[]): ImageIndex => ({ schemaVersion: 2, mediaType: OCI_INDEX, manifests });

describe('selectPlatformManifest', () => {
  test('an exact match beats an earlier compatible one', () => {
    const i = index(desc('v6', parsePlatform('linux/arm/v6')), desc('v7', parsePlatform('linux/arm/v7')));
    expect(selectPlatformManifest(i, parsePlatform('linux/arm/v7'))?.digest).toBe(sha256('v7'));
    expect(selectPlatformManifest(i, parsePlatform('linux/arm64'))?.digest).toBe(sha256('v7'));
    expect(selectPlatformManifest(i, parsePlatform('linux/arm/v6'))?.digest).toBe(sha256('v6'));
    expect(selectPlatformManifest(i, parsePlatform('linux/amd64'))).toBeUndefined();
  });
  test('attestations and platform-less entries are never picked', () => {
    const i = index(
      desc('att', { os: 'unknown', architecture: 'unknown' }, { 'vnd.docker.reference.type': 'attestation-manifest' }),
      desc('none'),
      desc('amd', { os: 'linux', architecture: 'amd64' }),
    );
    expect(selectPlatformManifest(i, parsePlatform('linux/amd64'))?.digest).toBe(sha256('amd'));
  });
  test('the first of equal matches wins', () => {
    const i = index(desc('a', parsePlatform('linux/amd64')), desc('b', parsePlatform('linux/amd64')));
    expect(selectPlatformManifest(i, parsePlatform('linux/amd64'))?.digest).toBe(sha256('a'));
  });
});
