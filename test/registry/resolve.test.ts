import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { join } from 'node:path';
import { formatReference, parseReference } from '../../src/oci/reference.ts';
import { DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_MANIFEST } from '../../src/oci/media-types.ts';
import { hostPlatform, parsePlatform } from '../../src/oci/platform.ts';
import { createRegistryClient, isNotFoundError, type RegistryClient } from '../../src/registry/index.ts';
import { sha256 } from '../../src/util/digest.ts';
import { KilnError } from '../../src/util/errors.ts';
import { makeTempDir, removeAll } from '../../src/util/fs.ts';
import { pushOciLayout, startRegistry, type TestRegistry } from '../helpers/registry.ts';
import { makeMultiPlatformLayout, type MultiLayout } from './fixtures.ts';

let registry: TestRegistry;
let layoutDir: string;
let multi: MultiLayout;
let client: RegistryClient;

beforeAll(async () => {
  registry = await startRegistry();
  layoutDir = await makeTempDir('kiln-regtest-');
  multi = await makeMultiPlatformLayout(join(layoutDir, 'layout'));
  const layout = join(layoutDir, 'layout');
  await pushOciLayout(layout, `${registry.host}/busybox:latest`);
  await pushOciLayout(layout, `${registry.host}/multi:latest`, { all: true, tag: 'multi' });
  await pushOciLayout(layout, `${registry.host}/dockerfmt:latest`, { format: 'v2s2' });
  await pushOciLayout(layout, `${registry.host}/dockerlist:latest`, { all: true, tag: 'multi', format: 'v2s2' });
  client = createRegistryClient();
});

afterAll(async () => {
  await client?.close();
  await registry?.stop();
  if (layoutDir) await removeAll(layoutDir);
});

async function rejection(p: Promise<unknown>): Promise<KilnError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(KilnError);
    return e as KilnError;
  }
  throw new Error('expected a rejection');
}

describe('resolve', () => {
  test('a tag', async () => {
    const r = await client.resolve(parseReference(`${registry.host}/busybox:latest`), hostPlatform());
    expect(r.indexDigest).toBeUndefined();
    expect(r.manifestDigest).toBe(multi.hostManifestDigest);
    expect(sha256(r.manifestBytes)).toBe(r.manifestDigest);
    expect(r.manifest.mediaType).toBe(OCI_MANIFEST);
    expect(sha256(r.configBytes)).toBe(r.configDescriptor.digest);
    expect(r.config.config.Cmd).toEqual(['sh']);
    expect(r.config.rootfs.diff_ids.length).toBe(1);
  });

  test('a digest, with and without a tag', async () => {
    for (const s of [`${registry.host}/busybox@${multi.hostManifestDigest}`, `${registry.host}/busybox:whatever@${multi.hostManifestDigest}`]) {
      const r = await client.resolve(parseReference(s), hostPlatform());
      expect(r.manifestDigest).toBe(multi.hostManifestDigest);
    }
  });

  test('an index picks the platform', async () => {
    const ref = parseReference(`${registry.host}/multi`);
    const h = await client.resolve(ref, hostPlatform());
    expect(h.indexDigest).toBe(multi.indexDigest);
    expect(h.manifestDigest).toBe(multi.hostManifestDigest);
    const s = await client.resolve(ref, parsePlatform('linux/s390x'));
    expect(s.indexDigest).toBe(multi.indexDigest);
    expect(s.manifestDigest).toBe(multi.otherManifestDigest);
    expect(s.configDescriptor.digest).toBe(multi.otherConfigDigest);
    expect(s.config.architecture).toBe('s390x');
    // by the index digest too
    const d = await client.resolve(parseReference(`${registry.host}/multi@${multi.indexDigest}`), parsePlatform('linux/s390x'));
    expect(d.manifestDigest).toBe(multi.otherManifestDigest);
  });

  test('no platform match lists the available ones', async () => {
    const err = await rejection(client.resolve(parseReference(`${registry.host}/multi`), parsePlatform('linux/ppc64le')));
    expect(err.message).toContain(`failed to resolve ${registry.host}/multi:latest: no match for platform linux/ppc64le`);
    expect(err.details?.join('\n')).toContain('linux/s390x');
    expect(err.details?.join('\n')).toContain(`linux/${hostPlatform().architecture}`);
  });

  test('docker schema 2 media types', async () => {
    const r = await client.resolve(parseReference(`${registry.host}/dockerfmt`), hostPlatform());
    expect(r.manifest.mediaType).toBe(DOCKER_MANIFEST);
    expect(r.config.config.Cmd).toEqual(['sh']);
    const raw = await client.fetchManifest(parseReference(`${registry.host}/dockerfmt`));
    expect(raw.mediaType).toBe(DOCKER_MANIFEST);
    expect(raw.digest).toBe(r.manifestDigest);
  });

  test('a docker manifest list', async () => {
    const ref = parseReference(`${registry.host}/dockerlist`);
    const raw = await client.fetchManifest(ref);
    expect(raw.mediaType).toBe(DOCKER_MANIFEST_LIST);
    const r = await client.resolve(ref, parsePlatform('linux/s390x'));
    expect(r.indexDigest).toBe(raw.digest);
    expect(r.manifest.mediaType).toBe(DOCKER_MANIFEST);
    expect(r.config.architecture).toBe('s390x');
  });

  test('unknown tag and unknown repository', async () => {
    const e1 = await rejection(client.resolve(parseReference(`${registry.host}/busybox:nope`), hostPlatform()));
    expect(e1.message).toBe(`failed to resolve ${registry.host}/busybox:nope: manifest unknown: manifest unknown (HTTP 404)`);
    expect(isNotFoundError(e1)).toBe(true);
    const e2 = await rejection(client.resolve(parseReference(`${registry.host}/absent/repo:1`), hostPlatform()));
    expect(e2.message).toMatch(/^failed to resolve .*\/absent\/repo:1: .*unknown.* \(HTTP 404\)$/);
  });

  test('a digest that the registry does not have', async () => {
    const ref = parseReference(`${registry.host}/busybox@sha256:${'0'.repeat(64)}`);
    const e = await rejection(client.resolve(ref, hostPlatform()));
    expect(e.message).toContain(formatReference(ref));
    expect(e.message).toContain('HTTP 404');
  });

  test('an unreachable registry', async () => {
    const dead = await startRegistry();
    const host = dead.host;
    await dead.stop();
    const e = await rejection(client.resolve(parseReference(`${host}/busybox`), hostPlatform()));
    expect(e.message).toBe(`cannot reach registry ${host}: connection refused (ECONNREFUSED)`);
    expect(e.kind).toBe('runtime');
  });
});
