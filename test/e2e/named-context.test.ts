/** --build-context NAME=DIR|docker-image://REF: read by FROM, COPY --from and RUN --mount from=. */
import { describe, expect, test } from 'bun:test';
import { readFile } from 'node:fs/promises';
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
});
