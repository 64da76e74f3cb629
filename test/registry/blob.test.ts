import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { open, readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseReference, type Reference } from '../../src/oci/reference.ts';
import { hostPlatform } from '../../src/oci/platform.ts';
import type { Descriptor } from '../../src/oci/types.ts';
import { createRegistryClient, type RegistryClient } from '../../src/registry/index.ts';
import { sha256 } from '../../src/util/digest.ts';
import { KilnError } from '../../src/util/errors.ts';
import { makeTempDir, removeAll } from '../../src/util/fs.ts';
import { withBusyboxRegistry, type BusyboxRegistry } from '../helpers/busybox-image.ts';
import { registryBlobPath } from './fixtures.ts';

let bb: BusyboxRegistry;
let client: RegistryClient;
let tmp: string;
let ref: Reference;
let layer: Descriptor;

beforeAll(async () => {
  bb = await withBusyboxRegistry();
  client = createRegistryClient({ retryDelayMs: 10 });
  tmp = await makeTempDir('kiln-blobtest-');
  ref = parseReference(bb.ref);
  layer = (await client.resolve(ref, hostPlatform())).manifest.layers[0]!;
});

afterAll(async () => {
  await client?.close();
  await bb?.stop();
  if (tmp) await removeAll(tmp);
});

/** Flips one byte of the registry's stored copy of `digest`; returns a function that undoes it. */
async function corrupt(digest: Descriptor['digest'], at: number): Promise<() => Promise<void>> {
  const path = registryBlobPath(bb.registry.storageDir, digest);
  const fh = await open(path, 'r+');
  const b = Buffer.alloc(1);
  await fh.read(b, 0, 1, at);
  const orig = b[0]!;
  await fh.write(Buffer.from([orig ^ 0xff]), 0, 1, at);
  await fh.close();
  return async () => {
    const f = await open(path, 'r+');
    await f.write(Buffer.from([orig]), 0, 1, at);
    await f.close();
  };
}

describe('blobs', () => {
  test('fetchBlobToFile writes the verified blob and nothing else', async () => {
    const dir = join(tmp, 'ok');
    const path = join(dir, 'layer');
    await client.fetchBlobToFile(ref, layer, path);
    const data = await readFile(path);
    expect(data.length).toBe(layer.size);
    expect(sha256(data)).toBe(layer.digest);
    expect(await readdir(dir)).toEqual(['layer']);
    // again over an existing file: replaced atomically
    await client.fetchBlobToFile(ref, layer, path);
    expect((await stat(path)).size).toBe(layer.size);
  });

  test('fetchBlob streams the same bytes', async () => {
    const stream = await client.fetchBlob(ref, layer);
    const parts: Uint8Array[] = [];
    for await (const c of stream) parts.push(c);
    expect(sha256(Buffer.concat(parts))).toBe(layer.digest);
  });

  test('a corrupted blob is refused and leaves no file', async () => {
    const restore = await corrupt(layer.digest, Math.floor(layer.size / 2));
    try {
      const dir = join(tmp, 'bad');
      const path = join(dir, 'layer');
      let err: unknown;
      try {
        await client.fetchBlobToFile(ref, layer, path);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(KilnError);
      expect((err as Error).message).toStartWith(`failed to fetch blob ${layer.digest} of ${bb.ref}: digest mismatch: got sha256:`);
      expect(await readdir(dir)).toEqual([]);

      // the stream errors instead of ending
      const stream = await client.fetchBlob(ref, layer);
      let streamErr: unknown;
      try {
        for await (const _ of stream) {
          // drain
        }
      } catch (e) {
        streamErr = e;
      }
      expect((streamErr as Error)?.message).toContain('digest mismatch');
    } finally {
      await restore();
    }
  });

  test('a corrupted config fails resolve', async () => {
    const cfg = bb.configDigest;
    const restore = await corrupt(cfg, 5);
    try {
      let err: unknown;
      try {
        await client.resolve(ref, hostPlatform());
      } catch (e) {
        err = e;
      }
      expect((err as Error)?.message).toContain(`failed to fetch blob ${cfg}`);
      expect((err as Error)?.message).toContain('digest mismatch');
    } finally {
      await restore();
    }
  });

  test('a wrong size in the descriptor is refused', async () => {
    const path = join(tmp, 'size', 'layer');
    let err: unknown;
    try {
      await client.fetchBlobToFile(ref, { ...layer, size: layer.size - 10 }, path);
    } catch (e) {
      err = e;
    }
    expect((err as Error)?.message).toContain('size mismatch');
    expect(await readdir(join(tmp, 'size'))).toEqual([]);
  });

  test('an unknown blob is a 404', async () => {
    let err: unknown;
    try {
      await client.fetchBlobToFile(ref, { ...layer, digest: sha256('nothing') }, join(tmp, 'unknown', 'x'));
    } catch (e) {
      err = e;
    }
    expect((err as Error)?.message).toMatch(/blob unknown.*\(HTTP 404\)/);
  });
});
