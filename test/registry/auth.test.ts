import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { join } from 'node:path';
import { parseReference } from '../../src/oci/reference.ts';
import { hostPlatform } from '../../src/oci/platform.ts';
import { createRegistryClient, isUnauthorizedError, parseWwwAuthenticate } from '../../src/registry/index.ts';
import { apiHost, registryBaseUrl, useHttp } from '../../src/registry/hosts.ts';
import { makeBusyboxImage } from '../../scripts/make-busybox-image.ts';
import { makeTempDir, removeAll } from '../../src/util/fs.ts';
import { withBusyboxRegistry } from '../helpers/busybox-image.ts';
import { pushOciLayout, startRegistry, type TestRegistry } from '../helpers/registry.ts';
import { startTokenServer, type TokenServer } from './token-server.ts';

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

describe('WWW-Authenticate parsing', () => {
  test('bearer with quoted params', () => {
    expect(
      parseWwwAuthenticate('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"'),
    ).toEqual([
      { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/alpine:pull' } },
    ]);
  });
  test('several challenges, tokens, escapes and spaces', () => {
    expect(parseWwwAuthenticate('Basic realm="a \\"b\\"", Bearer realm=https://x/t , error="insufficient_scope"')).toEqual([
      { scheme: 'basic', params: { realm: 'a "b"' } },
      { scheme: 'bearer', params: { realm: 'https://x/t', error: 'insufficient_scope' } },
    ]);
    expect(parseWwwAuthenticate('')).toEqual([]);
  });
});

describe('hosts', () => {
  test('docker hub, http for loopback and insecure hosts', () => {
    expect(apiHost('docker.io')).toBe('registry-1.docker.io');
    expect(registryBaseUrl('docker.io')).toBe('https://registry-1.docker.io');
    expect(registryBaseUrl('localhost:5000')).toBe('http://localhost:5000');
    expect(registryBaseUrl('127.0.0.1:1234')).toBe('http://127.0.0.1:1234');
    expect(useHttp('[::1]:5000')).toBe(true);
    expect(useHttp('ghcr.io')).toBe(false);
    expect(useHttp('reg.lan:5000', ['reg.lan'])).toBe(true);
    expect(useHttp('reg.lan:5000', ['reg.lan:5001'])).toBe(false);
    expect(useHttp('reg.lan:5000', ['reg.lan:5000'])).toBe(true);
  });
});

describe('basic auth (htpasswd)', () => {
  test('anonymous is refused, credentials work, wrong ones are refused', async () => {
    const bb = await withBusyboxRegistry({ htpasswd: { user: 'kiln', password: 's3cret' } });
    const anon = createRegistryClient();
    const good = createRegistryClient({ credentials: (h) => (h === bb.registry.host ? { username: 'kiln', password: 's3cret' } : undefined) });
    const bad = createRegistryClient({ credentials: () => ({ username: 'kiln', password: 'nope' }) });
    try {
      const ref = parseReference(bb.ref);
      const e = await rejection(anon.resolve(ref, hostPlatform()));
      expect(e.message).toBe(`failed to resolve ${bb.ref}: unauthorized: authentication required (HTTP 401)`);
      expect(isUnauthorizedError(e)).toBe(true);
      const r = await good.resolve(ref, hostPlatform());
      expect(r.manifestDigest).toBe(bb.manifestDigest);
      const e2 = await rejection(bad.resolve(ref, hostPlatform()));
      expect(e2.message).toContain('unauthorized');
    } finally {
      await anon.close();
      await good.close();
      await bad.close();
      await bb.stop();
    }
  });
});

describe('bearer token auth (distribution token auth)', () => {
  let dir: string;
  let tokens: TokenServer;
  let registry: TestRegistry;
  const creds = { username: 'pusher', password: 'pw' };

  beforeAll(async () => {
    dir = await makeTempDir('kiln-tokentest-');
    tokens = await startTokenServer({ dir, users: { pusher: 'pw' }, privateRepos: ['secret'] });
    registry = await startRegistry({
      token: { realm: tokens.realm, service: tokens.service, issuer: tokens.issuer, rootCertBundle: tokens.certPath },
    });
    await makeBusyboxImage(join(dir, 'layout'));
    await pushOciLayout(join(dir, 'layout'), `${registry.host}/busybox:latest`, { credentials: creds });
    await pushOciLayout(join(dir, 'layout'), `${registry.host}/secret:latest`, { credentials: creds });
  });

  afterAll(async () => {
    await registry?.stop();
    await tokens?.close();
    if (dir) await removeAll(dir);
  });

  test('anonymous token for a public repository, fetched once and cached', async () => {
    const client = createRegistryClient();
    try {
      tokens.requests.length = 0;
      const ref = parseReference(`${registry.host}/busybox:latest`);
      const r = await client.resolve(ref, hostPlatform());
      await client.fetchBlobToFile(ref, r.manifest.layers[0]!, join(dir, 'dl', 'layer'));
      await client.resolve(ref, hostPlatform());
      expect(tokens.requests).toEqual([{ scopes: ['repository:busybox:pull'], user: undefined }]);
    } finally {
      await client.close();
    }
  });

  test('a private repository needs credentials, sent to the realm', async () => {
    const ref = parseReference(`${registry.host}/secret:latest`);
    const anon = createRegistryClient();
    const authed = createRegistryClient({ credentials: () => creds });
    try {
      const e = await rejection(anon.resolve(ref, hostPlatform()));
      expect(e.message).toMatch(/^failed to resolve .*\/secret:latest: unauthorized: .* \(HTTP 401\)$/);
      tokens.requests.length = 0;
      const r = await authed.resolve(ref, hostPlatform());
      expect(r.config.config.Cmd).toEqual(['sh']);
      expect(tokens.requests.every((q) => q.user === 'pusher')).toBe(true);
    } finally {
      await anon.close();
      await authed.close();
    }
  });

  test('wrong credentials: the token server refusal is reported', async () => {
    const client = createRegistryClient({ credentials: () => ({ username: 'pusher', password: 'wrong' }) });
    try {
      const e = await rejection(client.resolve(parseReference(`${registry.host}/busybox:latest`), hostPlatform()));
      expect(e.message).toContain(`failed to authorize ${registry.host}`);
      expect(e.message).toContain('incorrect username or password (HTTP 401)');
    } finally {
      await client.close();
    }
  });
});
