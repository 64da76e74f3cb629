/**
 * Dockerfile → LLB + image config, checked on the data the frontend returns (no build).
 * resolveImageConfig answers from a fixed table, as a frontend test's own input.
 */
import { describe, expect, test } from 'bun:test';
import * as llb from '../../../../src/llb/index.ts';
import type { FrontendContext, ImageConfigFile } from '../../../../src/frontend/api.ts';
import { convertDockerfile } from '../../../../src/frontend/dockerfile/convert/convert.ts';
import { KilnError } from '../../../../src/util/errors.ts';

const amd64 = { os: 'linux', architecture: 'amd64' };
const BASE_DIGEST = 'sha256:' + 'a'.repeat(64);
const baseConfig: ImageConfigFile = {
  architecture: 'amd64',
  os: 'linux',
  config: { Env: ['PATH=/usr/bin:/bin', 'BASE=1'], Cmd: ['sh'], WorkingDir: '/base' },
  rootfs: { type: 'layers', diff_ids: ['sha256:' + 'b'.repeat(64)] },
  history: [{ created: '2024-01-01T00:00:00Z', created_by: 'base layer' }],
};

function context(buildArgs: Record<string, string> = {}, target?: string): FrontendContext & { warnings: string[] } {
  const warnings: string[] = [];
  return {
    warnings,
    opts: { buildArgs, target, platforms: [amd64], buildPlatform: amd64, labels: {}, raw: {}, filename: 'Dockerfile', noCache: false, multiPlatform: false },
    inputs: { names: () => [], readFile: async () => new Uint8Array(), readDir: async () => [], stat: async () => undefined },
    solve: async () => {
      throw new Error('no solves in this test');
    },
    progress: () => {},
    llb,
    async resolveImageConfig(ref) {
      return { ref: `docker.io/library/${ref.split(':')[0]}:latest@${BASE_DIGEST}`, digest: BASE_DIGEST, config: structuredClone(baseConfig) };
    },
    warn: (w) => warnings.push(w.message),
  };
}

const opsOf = (r: Awaited<ReturnType<typeof convertDockerfile>>, type: string) => r.definition.ops.filter((o) => o.op.op.type === type);

describe('convertDockerfile', () => {
  test('an image stage inherits the base config; history matches BuildKit', async () => {
    const r = await convertDockerfile('FROM busybox\nENV A=1 B="x y"\nRUN echo $A\nWORKDIR app\nCOPY . .\nCMD ["run"]\n', context());
    expect(r.config.config.Env).toEqual(['PATH=/usr/bin:/bin', 'BASE=1', 'A=1', 'B=x y']);
    expect(r.config.config.WorkingDir).toBe('/base/app');
    expect(r.config.config.Cmd).toEqual(['run']);
    expect(r.config.history!.map((h) => h.created_by)).toEqual([
      'base layer',
      'ENV A=1 B=x y',
      'RUN /bin/sh -c echo $A # buildkit',
      'WORKDIR /base/app',
      'COPY . . # buildkit',
      'CMD ["run"]',
    ]);
    expect(r.config.history!.map((h) => !!h.empty_layer)).toEqual([false, true, false, false, false, true]);
    const src = opsOf(r, 'source').map((o) => (o.op.op as { identifier: string }).identifier);
    expect(src).toContain(`docker-image://docker.io/library/busybox:latest@${BASE_DIGEST}`);
    expect(src).toContain('local://context');
    const exec = opsOf(r, 'exec')[0]!.op.op;
    if (exec.type !== 'exec') throw new Error('no exec');
    expect(exec.meta.args).toEqual(['/bin/sh', '-c', 'echo $A']);
    expect(exec.meta.env).toContain('A=1');
    expect(exec.meta.cwd).toBe('/base');
    const names = Object.values(r.definition.metadata).map((m) => m.description?.['llb.customname']);
    expect(names).toContain('[1/4] FROM docker.io/library/busybox:latest@' + BASE_DIGEST);
    expect(names).toContain('[2/4] RUN echo 1');
  });

  test('ARG: global, per stage, build-arg overrides, history prefix', async () => {
    const r = await convertDockerfile('ARG V=1\nFROM scratch\nARG V\nARG W=$V-w\nRUN x\n', context({ V: '2' }));
    const exec = opsOf(r, 'exec')[0]!.op.op;
    if (exec.type !== 'exec') throw new Error('no exec');
    expect(exec.meta.env).toContain('V=2');
    expect(exec.meta.env).toContain('W=2-w');
    expect(r.config.history!.at(-1)!.created_by).toBe('RUN |2 V=2 W=2-w /bin/sh -c x # buildkit');
    expect(r.config.config.Env).toEqual(['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin']);
  });

  test('only stages the target needs are converted', async () => {
    const df = 'FROM scratch AS a\nRUN a\nFROM scratch AS b\nRUN b\nFROM scratch\nCOPY --from=a /x /x\n';
    const r = await convertDockerfile(df, context());
    const args = opsOf(r, 'exec').map((o) => (o.op.op as { meta: { args: string[] } }).meta.args.at(-1));
    expect(args).toEqual(['a']);
    const rb = await convertDockerfile(df, context({}, 'B'));
    expect(opsOf(rb, 'exec').map((o) => (o.op.op as { meta: { args: string[] } }).meta.args.at(-1))).toEqual(['b']);
  });

  test('ENTRYPOINT resets CMD unless CMD was set in this stage', async () => {
    const r = await convertDockerfile('FROM busybox\nENTRYPOINT ["e"]\n', context());
    expect(r.config.config.Cmd).toBeNull();
    const r2 = await convertDockerfile('FROM busybox\nCMD ["c"]\nENTRYPOINT e\n', context());
    expect(r2.config.config.Cmd).toEqual(['c']);
    expect(r2.config.config.Entrypoint).toEqual(['/bin/sh', '-c', 'e']);
  });

  test('errors name the Dockerfile line', async () => {
    const err = await convertDockerfile('FROM scratch\nCOPY --chmod=999 a b\n', context()).catch((e) => e);
    expect(err).toBeInstanceOf(KilnError);
    expect((err as KilnError).location).toEqual({ file: 'Dockerfile', startLine: 2, endLine: 2 });
    const missing = await convertDockerfile('FROM scratch AS build\nRUN x\n', context({}, 'biuld')).catch((e) => e);
    expect((missing as Error).message).toContain('did you mean build?');
  });

  test('ONBUILD triggers of a base stage run first in the child and are not inherited', async () => {
    const df = 'FROM scratch AS base\nONBUILD RUN echo triggered\nFROM base\nRUN echo child\n';
    const r = await convertDockerfile(df, context());
    const args = opsOf(r, 'exec').map((o) => (o.op.op as { meta: { args: string[] } }).meta.args.at(-1));
    expect(args).toEqual(['echo triggered', 'echo child']);
    expect(r.config.config.OnBuild).toBeNull();
    const names = Object.values(r.definition.metadata).map((m) => m.description?.['llb.customname']);
    expect(names).toContain('[stage-1 1/2] ONBUILD RUN echo triggered');
  });

  test('RUN --device: a labs feature (warned without the labs syntax); kiln has no CDI devices', async () => {
    const plain = context();
    await convertDockerfile('FROM busybox\nRUN --device=vendor.com/gpu=0 true\n', plain);
    expect(plain.warnings.some((w) => w.startsWith('RUN --device is a labs feature'))).toBe(true);
    expect(plain.warnings).toContain('device "vendor.com/gpu=0" is not available (kiln has no CDI devices): the step runs without it');
    const labs = context();
    await convertDockerfile('# syntax=docker/dockerfile:1-labs\nFROM busybox\nRUN --device=vendor.com/gpu=0 true\n', labs);
    expect(labs.warnings.some((w) => w.includes('labs feature'))).toBe(false);
    const byArg = context({ BUILDKIT_SYNTAX: 'docker/dockerfile:1.10-labs' });
    await convertDockerfile('FROM busybox\nRUN --device=x true\n', byArg);
    expect(byArg.warnings.some((w) => w.includes('labs feature'))).toBe(false);
    const err = await convertDockerfile('# syntax=docker/dockerfile:1-labs\nFROM busybox\nRUN --device=name=x,required true\n', context()).catch((e) => e);
    expect(err).toBeInstanceOf(KilnError);
    expect(err.message).toBe('device "x" is required, and kiln has no CDI devices');
    expect(err.location).toEqual({ file: 'Dockerfile', startLine: 3, endLine: 3 });
  });
});
