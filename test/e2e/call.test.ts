/** kiln build --call targets|outline|check: the frontend's answers, as buildx prints them or as JSON. */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { makeContext, runKiln, tempStateDir } from '../helpers/kiln.ts';

const DOCKERFILE = [
  '# GO_VERSION the Go release to build with',
  'ARG GO_VERSION=1.22',
  '# base is the common base',
  'FROM busybox:latest AS base',
  '',
  '# build compiles the app',
  'FROM base AS build',
  '# VERSION the version stamped into the binary',
  'ARG VERSION=0.0.1',
  'RUN --mount=type=secret,id=npmrc,required --mount=type=ssh echo build',
  '',
  'FROM base AS release',
  'COPY --from=build /etc/hostname /x',
  '',
].join('\n');

let ctx: Awaited<ReturnType<typeof makeContext>>;
let state: Awaited<ReturnType<typeof tempStateDir>>;
beforeAll(async () => {
  ctx = await makeContext({ Dockerfile: DOCKERFILE });
  state = await tempStateDir();
});
afterAll(async () => {
  await ctx.cleanup();
  await state.cleanup();
});

describe('--call', () => {
  test('targets: named stages, their doc comments, the default', async () => {
    const r = await runKiln(['build', '--call', 'targets', ctx.dir], { root: state.root });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(['TARGET              DESCRIPTION', 'base                is the common base', 'build               compiles the app', 'release (default)', ''].join('\n'));
    const j = await runKiln(['build', '--call', 'targets,format=json', ctx.dir], { root: state.root });
    expect(JSON.parse(j.stdout).targets.map((t: { name: string }) => t.name)).toEqual(['base', 'build', 'release']);
  });

  test('outline: args with values and descriptions, secrets and SSH the target needs', async () => {
    const r = await runKiln(['build', '--call', 'outline', '--target', 'release', '--build-arg', 'VERSION=2.0', ctx.dir], { root: state.root });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('TARGET:      release');
    expect(r.stdout).toMatch(/GO_VERSION\s+1\.22\s+the Go release to build with/);
    expect(r.stdout).toMatch(/VERSION\s+2\.0\s+the version stamped into the binary/);
    expect(r.stdout).toMatch(/npmrc\s+true/);
    expect(r.stdout).toMatch(/SSH\s+REQUIRED\ndefault/);
    const base = JSON.parse((await runKiln(['build', '--call', 'outline,format=json', '--target', 'base', ctx.dir], { root: state.root })).stdout);
    expect(base).toEqual({ name: 'base', description: 'is the common base', args: [{ name: 'GO_VERSION', value: '1.22', description: 'the Go release to build with' }], secrets: [], ssh: [] });
  });

  test('check is --check; unknown requests are refused', async () => {
    const c = await runKiln(['build', '--call', 'check', ctx.dir], { root: state.root });
    expect(c.stdout).toContain('Check complete');
    const bad = await runKiln(['build', '--call', 'lint', ctx.dir], { root: state.root });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('invalid --call "lint"');
  });
});
