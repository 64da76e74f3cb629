/**
 * The walking skeleton end to end, through dist/kiln: a real registry with a locally made
 * busybox, RUN in runc on overlayfs, COPY from the context, four exporters checked by
 * skopeo/umoci/tar, a cached rebuild that runs nothing, and a failing RUN.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { join } from 'node:path';
import { withBusyboxRegistry, type BusyboxRegistry } from '../helpers/busybox-image.ts';
import { listTar, verifyDockerArchive, verifyOciArchive } from '../helpers/verify-image.ts';
import { makeContext, mountsUnder, runKiln, runcContainers, tempStateDir } from '../helpers/kiln.ts';
import { makeTempDir, removeAll } from '../../src/util/fs.ts';
import { readFile, readdir, lstat } from 'node:fs/promises';

let reg: BusyboxRegistry;
let state: Awaited<ReturnType<typeof tempStateDir>>;
let out: string;
let ctx: Awaited<ReturnType<typeof makeContext>>;

beforeAll(async () => {
  reg = await withBusyboxRegistry();
  state = await tempStateDir();
  out = await makeTempDir('kiln-out-');
  ctx = await makeContext({
    Dockerfile: [
      'ARG BASE',
      'FROM ${BASE}',
      'ENV APP=demo',
      'RUN echo hi > /x',
      'WORKDIR /work',
      'COPY . /src',
      'RUN ["/bin/sh", "-c", "cat /src/hello.txt > copied && id -u > uid"]',
      'LABEL org.example.stage=skeleton',
      'USER 1000',
      'ENTRYPOINT ["/bin/sh", "-c"]',
      'CMD ["echo $APP"]',
      '',
    ].join('\n'),
    'hello.txt': 'hello from the context\n',
    'sub/dir/file.txt': 'nested\n',
  });
});

afterAll(async () => {
  await reg?.stop();
  await ctx?.cleanup();
  await removeAll(out);
  await state?.cleanup();
});

const buildArgs = () => ['build', '--progress=plain', '--build-arg', `BASE=${reg.ref}`];

describe('kiln build (walking skeleton)', () => {
  test('builds and exports oci, docker, tar and local outputs that other tools accept', async () => {
    const r = await runKiln(
      [
        ...buildArgs(),
        '-t',
        'example.com/skeleton:1',
        '-o',
        `type=oci,dest=${join(out, 'img.oci.tar')}`,
        '-o',
        `type=docker,dest=${join(out, 'img.docker.tar')}`,
        '-o',
        `type=tar,dest=${join(out, 'rootfs.tar')}`,
        '-o',
        `type=local,dest=${join(out, 'rootfs')}`,
        ctx.dir,
      ],
      { root: state.root },
    );
    if (r.code !== 0) console.error(r.stderr);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('RUN echo hi > /x');

    const oci = await verifyOciArchive(join(out, 'img.oci.tar'));
    const cfg = oci.config as { config: Record<string, unknown>; history: { created_by: string; empty_layer?: boolean }[]; rootfs: { diff_ids: string[] } };
    expect(cfg.config.Env).toContain('APP=demo');
    expect(cfg.config.WorkingDir).toBe('/work');
    expect(cfg.config.User).toBe('1000');
    expect(cfg.config.Entrypoint).toEqual(['/bin/sh', '-c']);
    expect(cfg.config.Cmd).toEqual(['echo $APP']);
    expect(cfg.config.Labels).toEqual({ 'org.example.stage': 'skeleton' });
    const createdBy = cfg.history.map((h) => h.created_by);
    expect(createdBy).toContain('RUN /bin/sh -c echo hi > /x # buildkit');
    expect(createdBy).toContain('COPY . /src # buildkit');
    expect(createdBy).toContain('ENV APP=demo');
    expect(cfg.history.filter((h) => !h.empty_layer).length).toBe(cfg.rootfs.diff_ids.length);

    const docker = await verifyDockerArchive(join(out, 'img.docker.tar'));
    expect((docker.config as { config: { User: string } }).config.User).toBe('1000');

    const entries = await listTar(join(out, 'rootfs.tar'));
    const names = entries.map((e) => e.replace(/^\.\//, '').replace(/\/$/, ''));
    expect(names).toContain('x');
    expect(names).toContain('src/hello.txt');
    expect(names).toContain('src/sub/dir/file.txt');
    expect(names).toContain('work/copied');

    const local = join(out, 'rootfs');
    expect(await readFile(join(local, 'x'), 'utf8')).toBe('hi\n');
    expect(await readFile(join(local, 'work', 'copied'), 'utf8')).toBe('hello from the context\n');
    expect((await readFile(join(local, 'work', 'uid'), 'utf8')).trim()).toBe('0');
    expect((await lstat(join(local, 'bin', 'sh'))).isSymbolicLink()).toBe(true);
    expect((await readdir(join(local, 'src'))).sort()).toEqual(['Dockerfile', 'hello.txt', 'sub']);
  });

  test('a second identical build runs nothing', async () => {
    const r = await runKiln([...buildArgs(), '-o', `type=oci,dest=${join(out, 'again.oci.tar')}`, ctx.dir], { root: state.root });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/0 steps run/);
    expect(r.stderr).toContain('CACHED');
    await verifyOciArchive(join(out, 'again.oci.tar'));
  });

  test('a failing RUN fails the build, names the step and shows its output', async () => {
    const bad = await makeContext({ Dockerfile: `FROM ${reg.ref}\nRUN echo about to fail && echo oops >&2 && exit 3\n` });
    try {
      const r = await runKiln(['build', '--progress=plain', bad.dir], { root: state.root });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('RUN echo about to fail');
      expect(r.stderr).toContain('exit code: 3');
      expect(r.stderr).toContain('oops');
      expect(r.stderr).toContain('Dockerfile:2');
    } finally {
      await bad.cleanup();
    }
  });

  test('leaves no mount and no runc container behind', () => {
    expect(mountsUnder(state.root)).toEqual([]);
    expect(runcContainers(state.root)).toEqual([]);
  });
});
