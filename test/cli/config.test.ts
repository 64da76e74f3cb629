/** kiln.toml: parsing, checking, and what it turns into (GC policies, registry options). */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gcPolicies, loadConfig, registryOptions } from '../../src/cli/config.ts';
import { makeTempDir, removeAll } from '../../src/util/fs.ts';

let dir: string;
beforeAll(async () => {
  dir = await makeTempDir('kiln-config-');
});
afterAll(async () => {
  await removeAll(dir);
});

async function load(text: string) {
  const p = join(dir, `c${Math.random().toString(36).slice(2)}.toml`);
  await writeFile(p, text);
  return loadConfig(p, {});
}

describe('kiln.toml', () => {
  test('[network]: stall limits and attempts', async () => {
    const cfg = await load(['[network]', 'idle-timeout = "2s"', 'low-speed-limit = "20KB"', 'low-speed-time = "3s"', 'attempts = 2', ''].join('\n'));
    expect(registryOptions(cfg).network).toEqual({ idleMs: 2000, lowSpeedBytesPerSec: 20_480, lowSpeedWindowMs: 3000, attempts: 2 });
    await expect(load('[network]\nidle-timout = "2s"\n')).rejects.toThrow(/did you mean idle-timeout/);
  });

  test('[network]: a zero, negative, endless or malformed limit is refused', async () => {
    for (const line of ['idle-timeout = "0s"', 'idle-timeout = 0', 'low-speed-time = "0ms"', 'idle-timeout = "1000d"', 'idle-timeout = 1e300']) {
      const cfg = await load(`[network]\n${line}\n`);
      expect(() => registryOptions(cfg), line).toThrow(/durations must be greater than 0 and at most 24h/);
    }
    for (const line of ['idle-timeout = -1', 'attempts = 0', 'attempts = 1.5', 'attempts = 1000', 'idle-timeout = "soon"']) {
      const run = async () => registryOptions(await load(`[network]\n${line}\n`));
      await expect(run(), line).rejects.toThrow(/config|duration/);
    }
    const off = await load('[network]\nlow-speed-limit = 0\n');
    expect(registryOptions(off).network.lowSpeedBytesPerSec).toBe(0);
  });

  test('a full file', async () => {
    const cfg = await load(
      ['root = "/srv/kiln"', 'max-parallelism = 3', 'runtime = "crun"', '[registry."docker.io"]', 'mirrors = ["m1:5000", "m2"]', '[registry."reg.internal:5000"]', 'http = true', '[gc]', 'max-used-space = "20%"', ''].join('\n'),
    );
    expect(cfg.root).toBe('/srv/kiln');
    expect(cfg['max-parallelism']).toBe(3);
    expect(registryOptions(cfg)).toEqual({
      insecureHosts: ['reg.internal:5000'],
      mirrors: { 'docker.io': ['m1:5000', 'm2'] },
      tls: {},
      network: { idleMs: 30_000, lowSpeedBytesPerSec: 10240, lowSpeedWindowMs: 30_000, attempts: 4 },
    });
    const p = gcPolicies(cfg, 100e9);
    expect(p).toHaveLength(3);
    expect(p[2]!.maxUsedBytes).toBe(20e9);
    expect(p[2]!.reservedBytes).toBe(10e9); // BuildKit: 10% of the disk, at most 10GB
    expect(p[2]!.minFreeBytes).toBe(20e9);
  });

  test('BuildKit default GC caps on a small disk, and [[gc.policy]] replacing them', async () => {
    const d = gcPolicies({}, 50e9);
    expect(d[0]).toEqual({ types: ['exec.cachemount'], keepDurationMs: 48 * 3.6e6, maxUsedBytes: 512e6 });
    expect(d[1]!.keepDurationMs).toBe(60 * 8.64e7);
    expect(d[2]).toEqual({ reservedBytes: 5e9, maxUsedBytes: 40e9, minFreeBytes: 10e9 });
    const cfg = await load('[[gc.policy]]\nkeep-duration = "2h"\nfilters = ["type==regular"]\nmax-used-space = "1GB"\n');
    expect(gcPolicies(cfg, 50e9)).toEqual([{ types: ['regular'], keepDurationMs: 7.2e6, maxUsedBytes: 1024 ** 3, reservedBytes: undefined, minFreeBytes: undefined }]);
  });

  test('errors name the file and the key, with the near one', async () => {
    await expect(load('max-paralelism = 2\n')).rejects.toThrow(/max-paralelism.*did you mean max-parallelism\?/);
    await expect(load('runtime = "kata"\n')).rejects.toThrow(/runtime/);
    await expect(load('[registry."x"]\nmirror = ["a"]\n')).rejects.toThrow(/did you mean mirrors\?/);
    await expect(load('gc = [\n')).rejects.toThrow(/\.toml/);
    await expect(loadConfig(join(dir, 'missing.toml'), {})).rejects.toThrow(/cannot read config file/);
    expect(await loadConfig(undefined, { HOME: dir })).toEqual({}); // no default file: all defaults
  });
});
