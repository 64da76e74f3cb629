/**
 * A running test registry that already holds the busybox test image at
 * `${registry.host}/busybox:latest`. Pair with `stop()` in a finally / afterAll.
 */
import { join } from 'node:path';
import { makeBusyboxImage, makeBusyboxIndex } from '../../scripts/make-busybox-image.ts';
import { repoRoot } from './kiln.ts';
import { makeTempDir, removeAll } from '../../src/util/fs.ts';
import type { Digest } from '../../src/util/digest.ts';
import { pushOciLayout, startRegistry, type StartRegistryOptions, type TestRegistry } from './registry.ts';

export interface BusyboxRegistry {
  registry: TestRegistry;
  /** `HOST/busybox:latest` */
  ref: string;
  /** The pushed manifest and config digests (same as the layout's). */
  manifestDigest: Digest;
  configDigest: Digest;
  /** Stops the registry and removes every temp dir. Idempotent. */
  stop(): Promise<void>;
}

export async function withBusyboxRegistry(opts: StartRegistryOptions = {}): Promise<BusyboxRegistry> {
  const registry = await startRegistry(opts);
  const dir = await makeTempDir('kiln-busybox-');
  try {
    const layout = join(dir, 'layout');
    const { manifestDigest, configDigest } = await makeBusyboxImage(layout);
    const ref = `${registry.host}/busybox:latest`;
    await pushOciLayout(layout, ref, { credentials: registry.credentials });
    return {
      registry,
      ref,
      manifestDigest,
      configDigest,
      async stop() {
        await registry.stop();
      },
    };
  } catch (e) {
    await registry.stop();
    throw e;
  } finally {
    await removeAll(dir);
  }
}

/** Debian's arm64 busybox-static binary, fetched by scripts/install-deps.sh. */
export const ARM64_BUSYBOX = join(repoRoot, '.cache', 'busybox-arm64', 'busybox');

/**
 * Pushes `HOST/busybox:multi` to `registry`: an image index of the host's busybox as
 * linux/amd64 and Debian's arm64 busybox as linux/arm64. Returns the reference.
 */
export async function pushBusyboxIndex(registry: TestRegistry): Promise<string> {
  const dir = await makeTempDir('kiln-busybox-index-');
  try {
    const layout = join(dir, 'layout');
    await makeBusyboxIndex(layout, 'multi', [
      { busybox: '/bin/busybox', platform: { os: 'linux', architecture: 'amd64' } },
      { busybox: ARM64_BUSYBOX, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
    ]);
    const ref = `${registry.host}/busybox:multi`;
    await pushOciLayout(layout, ref, { all: true, credentials: registry.credentials });
    return ref;
  } finally {
    await removeAll(dir);
  }
}
