/** kiln du and kiln prune: usage by kind; pruning never breaks a later build. */
import { describe, expect, test } from 'bun:test';
import { mkdir, readdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { useBuildFixture } from '../helpers/build-fixture.ts';
import { runKiln } from '../helpers/kiln.ts';

const fx = useBuildFixture((ref) => ({ Dockerfile: `FROM ${ref}\nRUN echo x > /x\nCOPY f /f\n`, f: 'f\n' }));

const build = () => runKiln(['build', '--progress=plain', '-o', `type=tar,dest=${join(fx.state.root, 'out.tar')}`, fx.ctx.dir], { root: fx.state.root });
const ran = (s: string) => Number(/(\d+) steps run/.exec(s)?.[1]);

describe('store management', () => {
  test('du reports layers and blobs', async () => {
    expect((await build()).code).toBe(0);
    const r = await runKiln(['du'], { root: fx.state.root });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/layers\s+3\s/);
    expect(r.stdout).toMatch(/blobs\s+\d+/);
    expect(r.stdout).toMatch(/images\s+0\s+0B/);
    const v = await runKiln(['du', '--verbose'], { root: fx.state.root });
    expect(v.stdout).toContain('RUN echo x > /x');
  });

  test('du sizes stored images by the blobs they reach, without adding them to the total', async () => {
    const t = await runKiln(['build', '-q', '-t', 'du-test:1', fx.ctx.dir], { root: fx.state.root });
    expect(t.code).toBe(0);
    const r = await runKiln(['du'], { root: fx.state.root });
    const size = (label: string) => /^(\S+(?: \S+)?)\s+\d*\s+([\d.]+)(B|kB|MB|GB)/m.exec(r.stdout.split('\n').find((l) => l.startsWith(label)) ?? '');
    const images = size('images');
    expect(r.stdout).toMatch(/images\s+1\s+/);
    // the busybox layer alone is about 1 MB
    expect(images?.[3]).toBe('MB');
    const v = await runKiln(['du', '--verbose'], { root: fx.state.root });
    expect(v.stdout).toMatch(/image:docker\.io\/library\/du-test:1\s+[\d.]+MB/);
    const num = (m: RegExpExecArray | null) => Number(m?.[2]) * { B: 1, kB: 1e3, MB: 1e6, GB: 1e9 }[m?.[3] as 'B'];
    expect(num(size('total'))).toBeCloseTo(num(size('layers')) + num(size('blobs')) + num(size('cache mounts')), -4);
    expect((await runKiln(['image', 'rm', 'du-test:1'], { root: fx.state.root })).code).toBe(0);
  });

  test('prune of recent cache keeps everything; the next build is fully cached', async () => {
    const p = await runKiln(['prune', '--filter', 'until=24h'], { root: fx.state.root });
    expect(p.code).toBe(0);
    expect(p.stdout).toContain('removed 0 cache records, 0 cache mounts, 0 snapshots');
    expect(ran((await build()).stderr)).toBe(0);
  });

  test('prune --all removes cache, snapshots and blobs; the next build runs and works', async () => {
    const p = await runKiln(['prune', '--all', '--force'], { root: fx.state.root });
    expect(p.code).toBe(0);
    expect((await readdir(join(fx.state.root, 'snapshots'))).filter((n) => /^[0-9a-f]{12}$/.test(n))).toEqual([]);
    const b = await build();
    expect(b.code).toBe(0);
    expect(ran(b.stderr)).toBe(3);
  });

  test('doctor --store: clean after builds; finds a corrupt blob and a missing layer; prune clears leftovers', async () => {
    expect((await build()).code).toBe(0);
    const ok = await runKiln(['doctor', '--store'], { root: fx.state.root });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/ok\s+store integrity: \d+ snapshots/);
    expect(ok.stdout).not.toContain('store leftovers');

    // A leftover (as a crash between moving a snapshot into place and recording it leaves): harmless.
    await mkdir(join(fx.state.root, 'snapshots', 'abcdefabcdef', 'fs'), { recursive: true });
    const left = await runKiln(['doctor', '--store'], { root: fx.state.root });
    expect(left.code).toBe(0);
    expect(left.stdout).toContain('snapshots/abcdefabcdef: no record refers to it');
    expect((await runKiln(['prune', '--filter', 'until=24h'], { root: fx.state.root })).code).toBe(0);
    expect((await runKiln(['doctor', '--store'], { root: fx.state.root })).stdout).not.toContain('abcdefabcdef');

    // Real damage: a blob whose bytes changed, a layer directory gone.
    const blobs = join(fx.state.root, 'content', 'blobs', 'sha256');
    const blob = (await readdir(blobs))[0]!;
    await writeFile(join(blobs, blob), 'not what it was');
    const layer = (await readdir(join(fx.state.root, 'snapshots'))).find((n) => /^[0-9a-f]{12}$/.test(n))!;
    await rename(join(fx.state.root, 'snapshots', layer), join(fx.state.root, 'snapshots', 'moved-away'));
    const bad = await runKiln(['doctor', '--store'], { root: fx.state.root });
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain(`blob sha256:${blob}: its bytes do not match its digest`);
    expect(bad.stdout).toMatch(new RegExp(`snapshot [0-9a-f]{12}: layer directory .*${layer}/fs is missing`));
    expect((await runKiln(['prune', '--all', '--force'], { root: fx.state.root })).code).toBe(0);
    expect((await runKiln(['doctor', '--store'], { root: fx.state.root })).code).toBe(0);
  });

  test('bad flags are usage errors', async () => {
    expect((await runKiln(['prune'], { root: fx.state.root })).code).toBe(2);
    expect((await runKiln(['prune', '--filter', 'until=soon'], { root: fx.state.root })).code).toBe(2);
  });
});
