import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'bun:test';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseReference, type Reference } from '../../src/oci/reference.ts';
import { hostPlatform } from '../../src/oci/platform.ts';
import type { Descriptor } from '../../src/oci/types.ts';
import { createRegistryClient, type RegistryClient } from '../../src/registry/index.ts';
import { sha256 } from '../../src/util/digest.ts';
import { makeTempDir, removeAll } from '../../src/util/fs.ts';
import { withBusyboxRegistry, type BusyboxRegistry } from '../helpers/busybox-image.ts';
import { startFaultProxy, type FaultProxy } from './fault-proxy.ts';

let bb: BusyboxRegistry;
let proxy: FaultProxy;
let client: RegistryClient;
let tmp: string;
let ref: Reference;
let layer: Descriptor;

beforeAll(async () => {
  bb = await withBusyboxRegistry();
  proxy = await startFaultProxy(bb.registry.host);
  client = createRegistryClient({ retryDelayMs: 5 });
  tmp = await makeTempDir('kiln-retrytest-');
  ref = parseReference(`${proxy.host}/busybox:latest`);
  layer = (await client.resolve(ref, hostPlatform())).manifest.layers[0]!;
});

afterAll(async () => {
  await client?.close();
  await proxy?.close();
  await bb?.stop();
  if (tmp) await removeAll(tmp);
});

beforeEach(() => {
  proxy.faults.length = 0;
  proxy.log.length = 0;
});

const blobRequests = () => proxy.log.filter((r) => r.path.includes('/blobs/'));

describe('retries', () => {
  test('503 on the manifest is retried', async () => {
    proxy.faults.push({ match: /\/manifests\//, status: 503, times: 2 });
    const r = await client.resolve(ref, hostPlatform());
    expect(r.manifest.layers[0]).toEqual(layer);
    expect(proxy.log.filter((l) => l.path.includes('/manifests/')).length).toBe(3);
  });

  test('gives up after the attempts with the last status', async () => {
    proxy.faults.push({ match: /\/manifests\//, status: 503 });
    let err: unknown;
    try {
      await client.resolve(ref, hostPlatform());
    } catch (e) {
      err = e;
    }
    expect((err as Error)?.message).toBe(`failed to resolve ${proxy.host}/busybox:latest: unavailable: injected failure (HTTP 503)`);
    expect(proxy.log.length).toBe(4);
  });

  test('a download cut off mid-way resumes with Range', async () => {
    proxy.faults.push({ match: /\/blobs\//, cutAfter: 300_000, times: 1 });
    const path = join(tmp, 'resume', 'layer');
    await client.fetchBlobToFile(ref, layer, path);
    expect(sha256(await readFile(path))).toBe(layer.digest);
    const reqs = blobRequests();
    expect(reqs.length).toBe(2);
    expect(reqs[0]!.range).toBeUndefined();
    const start = Number(/^bytes=(\d+)-$/.exec(reqs[1]!.range ?? '')?.[1]);
    expect(start).toBeGreaterThan(0);
    expect(start).toBeLessThanOrEqual(300_000);
  });

  test('a server that ignores Range still gives the right bytes', async () => {
    proxy.faults.push({ match: /\/blobs\//, cutAfter: 200_000, times: 1 }, { match: /\/blobs\//, ignoreRange: true });
    const stream = await client.fetchBlob(ref, layer);
    const parts: Uint8Array[] = [];
    for await (const c of stream) parts.push(c);
    expect(sha256(Buffer.concat(parts))).toBe(layer.digest);
    expect(blobRequests().length).toBe(2);
  });

  test('a connection that keeps breaking fails cleanly', async () => {
    proxy.faults.push({ match: /\/blobs\//, cutAfter: 1000 });
    const dir = join(tmp, 'broken');
    let err: unknown;
    try {
      await client.fetchBlobToFile(ref, layer, join(dir, 'layer'));
    } catch (e) {
      err = e;
    }
    expect((err as Error)?.message).toMatch(new RegExp(`cannot reach registry ${proxy.host}: `));
    expect(blobRequests().length).toBe(4);
    expect(await readdir(dir)).toEqual([]);
  });

  test('blob redirects to another origin are followed', async () => {
    proxy.faults.push({ match: /\/blobs\//, redirect: true });
    const path = join(tmp, 'redirect', 'layer');
    await client.fetchBlobToFile(ref, layer, path);
    expect(sha256(await readFile(path))).toBe(layer.digest);
  });
});
