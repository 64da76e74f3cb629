/** --build-context NAME=DIR|docker-image://REF: read by FROM, COPY --from and RUN --mount from=. */
import { describe, expect, test } from 'bun:test';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { useBuildEnv } from '../helpers/build-env.ts';
import { makeContext, runKiln } from '../helpers/kiln.ts';
import { makeTempDir, removeAll } from '../../src/util/fs.ts';

const env = useBuildEnv();

describe('named contexts', () => {
  test('a directory and an image as named contexts', async () => {
    const extra = await makeContext({ 'data.txt': 'from extra\n', 'sub/x': 'x\n' });
    const ctx = await makeContext({
      Dockerfile: [
        'FROM base AS tools',
        'FROM base',
        'COPY --from=extra data.txt /copied.txt',
        'RUN --mount=from=extra,target=/mnt cat /mnt/sub/x > /mounted.txt',
        'FROM extra AS files',
        'FROM tools',
        'COPY --from=files /sub/x /from-dir-stage',
        'COPY --from=1 /copied.txt /mounted.txt /',
        '',
      ].join('\n'),
    });
    const out = await makeTempDir('kiln-out-');
    try {
      const r = await runKiln(
        ['build', '--progress=plain', '--build-context', `extra=${extra.dir}`, '--build-context', `base=docker-image://${env.reg.ref}`, '-o', `type=local,dest=${out}`, ctx.dir],
        { root: env.state.root },
      );
      if (r.code !== 0) console.error(r.stderr);
      expect(r.code).toBe(0);
      expect(await readFile(join(out, 'copied.txt'), 'utf8')).toBe('from extra\n');
      expect(await readFile(join(out, 'mounted.txt'), 'utf8')).toBe('x\n');
      expect(await readFile(join(out, 'from-dir-stage'), 'utf8')).toBe('x\n');
      expect(await readFile(join(out, 'bin', 'busybox')).then((b) => b.length > 0)).toBe(true);
    } finally {
      await extra.cleanup();
      await ctx.cleanup();
      await removeAll(out);
    }
  });

  test('oci-layout:// (path or --oci-layout store, by tag) and an http URL as named contexts', async () => {
    // An OCI layout holding a small image (made by kiln itself, tagged 1.0), served nowhere.
    const base = await makeContext({ Dockerfile: 'FROM scratch\nCOPY marker /marker\n', marker: 'from the layout\n' });
    const layout = await makeTempDir('kiln-layout-');
    const files = await makeContext({ 'f.txt': 'over http\n' });
    const server = createServer(async (req, res) => res.end(await readFile(join(files.dir, 'f.txt'))));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/files/f.txt`;
    const out = await makeTempDir('kiln-out-');
    const ctx = await makeContext({
      Dockerfile: ['FROM scratch', 'COPY --from=layout /marker /via-path', 'COPY --from=store /marker /via-store', 'COPY --from=web f.txt /web.txt', ''].join('\n'),
    });
    try {
      const b = await runKiln(['build', '--progress=plain', '-t', 'x:1.0', '-o', `type=oci,dest=${join(layout, 'l')},tar=false`, base.dir], { root: env.state.root });
      expect(b.code).toBe(0);
      const r = await runKiln(
        [
          'build', '--progress=plain',
          '--build-context', `layout=oci-layout://${join(layout, 'l')}:1.0`,
          '--oci-layout', `mystore=${join(layout, 'l')}`,
          '--opt', 'context:store=oci-layout://mystore:1.0',
          '--build-context', `web=${url}`,
          '-o', `type=local,dest=${out}`, ctx.dir,
        ],
        { root: env.state.root },
      );
      if (r.code !== 0) console.error(r.stderr);
      expect(r.code).toBe(0);
      expect(await readFile(join(out, 'via-path'), 'utf8')).toBe('from the layout\n');
      expect(await readFile(join(out, 'via-store'), 'utf8')).toBe('from the layout\n');
      expect(await readFile(join(out, 'web.txt'), 'utf8')).toBe('over http\n');
      const bad = await runKiln(['build', '--build-context', `layout=oci-layout://${join(layout, 'l')}:2.0`, ctx.dir], { root: env.state.root });
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain('no image tagged 2.0');
    } finally {
      await new Promise((r) => server.close(r));
      for (const c of [base, files, ctx]) await c.cleanup();
      await removeAll(layout);
      await removeAll(out);
    }
  });
});
