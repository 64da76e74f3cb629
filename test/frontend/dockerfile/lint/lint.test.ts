/**
 * Build checks, one fixture folder per rule (test/fixtures/dockerfile/lint/<case>/): the
 * Dockerfile and expected.txt, one `Rule line` per warning, sorted. Plus the error=true mode.
 */
import { describe, expect, test } from 'bun:test';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as llb from '../../../../src/llb/index.ts';
import type { FrontendContext, FrontendWarning } from '../../../../src/frontend/api.ts';
import { convertDockerfile } from '../../../../src/frontend/dockerfile/convert/convert.ts';
import { KilnError } from '../../../../src/util/errors.ts';

const dir = join(import.meta.dirname, '..', '..', '..', 'fixtures', 'dockerfile', 'lint');
const amd64 = { os: 'linux', architecture: 'amd64' };

function context(warnings: FrontendWarning[], buildArgs: Record<string, string> = {}): FrontendContext {
  return {
    opts: { buildArgs, platforms: [amd64], buildPlatform: amd64, labels: {}, raw: {}, filename: 'Dockerfile', noCache: false, multiPlatform: false },
    inputs: { names: () => [], readFile: async () => new Uint8Array(), readDir: async () => [], stat: async () => undefined },
    solve: async () => {
      throw new Error('no solves in this test');
    },
    progress: () => {},
    llb,
    resolveImageConfig: async (ref) => ({
      ref: `docker.io/library/${ref}@sha256:${'e'.repeat(64)}`,
      digest: `sha256:${'e'.repeat(64)}`,
      config: { architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [`sha256:${'f'.repeat(64)}`] } },
    }),
    warn: (w) => warnings.push(w),
  };
}

describe('build checks (fixtures)', () => {
  for (const name of readdirSync(dir).sort()) {
    test(name, async () => {
      const warnings: FrontendWarning[] = [];
      await convertDockerfile(readFileSync(join(dir, name, 'Dockerfile'), 'utf8'), context(warnings));
      const got = warnings.map((w) => `${w.rule} ${w.location?.startLine}`).sort();
      const want = readFileSync(join(dir, name, 'expected.txt'), 'utf8').split('\n').filter(Boolean).sort();
      expect(got).toEqual(want);
      for (const w of warnings) expect(w.message).toStartWith(`${w.rule}: `);
    });
  }
});

describe('check configuration', () => {
  test('error=true fails the build after all checks ran, naming the rules', async () => {
    const err = await convertDockerfile('# check=error=true\nFROM scratch\nMAINTAINER me\n', context([])).catch((e) => e);
    expect(err).toBeInstanceOf(KilnError);
    expect((err as KilnError).message).toBe('lint violation found for rules: MaintainerDeprecated');
  });

  test('BUILDKIT_DOCKERFILE_CHECK overrides the directive', async () => {
    const warnings: FrontendWarning[] = [];
    await convertDockerfile('# check=skip=all\nFROM scratch\nMAINTAINER me\n', context(warnings, { BUILDKIT_DOCKERFILE_CHECK: 'skip=StageNameCasing' }));
    expect(warnings.map((w) => w.rule)).toEqual(['MaintainerDeprecated']);
  });
});
