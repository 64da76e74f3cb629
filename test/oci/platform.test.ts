import { describe, expect, test } from 'bun:test';
import {
  compatiblePlatforms, formatPlatform, hostPlatform, normalizePlatform, parsePlatform, platformMatches,
} from '../../src/oci/platform.ts';

describe('parsePlatform / formatPlatform', () => {
  const CASES: Array<[string, string]> = [
    ['linux/amd64', 'linux/amd64'],
    ['linux/x86_64', 'linux/amd64'],
    ['linux/amd64/v1', 'linux/amd64'],
    ['linux/amd64/v3', 'linux/amd64/v3'],
    ['linux/arm64', 'linux/arm64'],
    ['linux/arm64/v8', 'linux/arm64'],
    ['linux/aarch64', 'linux/arm64'],
    ['linux/arm', 'linux/arm/v7'],
    ['linux/arm/7', 'linux/arm/v7'],
    ['linux/arm/v6', 'linux/arm/v6'],
    ['linux/armhf', 'linux/arm/v7'],
    ['linux/armel', 'linux/arm/v6'],
    ['linux/i386', 'linux/386'],
    ['Linux/AMD64', 'linux/amd64'],
    ['macos/arm64', 'darwin/arm64'],
    ['s390x', 'linux/s390x'],
    ['linux/riscv64', 'linux/riscv64'],
  ];
  for (const [input, want] of CASES) {
    test(`${input} → ${want}`, () => {
      expect(formatPlatform(parsePlatform(input))).toBe(want);
    });
  }
  test('os alone takes the host architecture; local is the host', () => {
    expect(parsePlatform('linux').architecture).toBe(normalizePlatform(hostPlatform()).architecture);
    expect(parsePlatform('local')).toEqual(normalizePlatform(hostPlatform()));
  });
  for (const bad of ['', 'linux/amd64/v2/x', 'linux/amd 64', 'linux//amd64']) {
    test(`refuses ${JSON.stringify(bad)}`, () => {
      expect(() => parsePlatform(bad)).toThrow(/invalid platform/);
    });
  }
});

describe('hostPlatform', () => {
  test('maps node arch names to OCI ones', () => {
    const h = hostPlatform();
    expect(h.os).toBe('linux');
    const want: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386' };
    if (want[process.arch]) expect(h.architecture).toBe(want[process.arch]!);
    if (process.arch === 'arm64') expect(h.variant).toBe('v8');
  });
});

describe('platformMatches (containerd/BuildKit default matcher)', () => {
  const M: Array<[string, string, boolean]> = [
    ['linux/amd64', 'linux/amd64', true],
    ['linux/amd64', 'linux/386', true],
    ['linux/amd64', 'linux/arm64', false],
    ['linux/amd64', 'windows/amd64', false],
    ['linux/amd64', 'linux/amd64/v2', false],
    ['linux/amd64/v3', 'linux/amd64/v2', true],
    ['linux/amd64/v3', 'linux/amd64', true],
    ['linux/amd64/v2', 'linux/amd64/v3', false],
    ['linux/arm64', 'linux/arm64/v8', true],
    ['linux/arm64/v8', 'linux/arm64', true],
    ['linux/arm64', 'linux/arm/v7', true],
    ['linux/arm64', 'linux/arm/v5', true],
    ['linux/arm64', 'linux/amd64', false],
    ['linux/arm/v7', 'linux/arm64', false],
    ['linux/arm/v7', 'linux/arm/v6', true],
    ['linux/arm/v7', 'linux/arm', true],
    ['linux/arm/v6', 'linux/arm/v7', false],
    ['linux/arm', 'linux/arm/v7', true],
  ];
  for (const [want, cand, ok] of M) {
    test(`${want} ${ok ? 'runs' : 'does not run'} ${cand}`, () => {
      expect(platformMatches(parsePlatform(want), parsePlatform(cand))).toBe(ok);
    });
  }
  test('compatible platforms are ordered best first', () => {
    expect(compatiblePlatforms(parsePlatform('linux/arm64')).map(formatPlatform)).toEqual([
      'linux/arm64', 'linux/arm/v8', 'linux/arm/v7', 'linux/arm/v6', 'linux/arm/v5',
    ]);
    expect(compatiblePlatforms(parsePlatform('linux/amd64/v3')).map(formatPlatform)).toEqual([
      'linux/amd64/v3', 'linux/amd64/v2', 'linux/amd64', 'linux/386',
    ]);
  });
});
