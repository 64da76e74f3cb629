/**
 * The compiled binary runs only the code embedded in it. Its worker threads once started from
 * a file: URL of their source path, which Bun loads from disk when that path exists: a kiln
 * binary would have run whatever TypeScript sat where it had been built (here, this checkout),
 * as root. Code loaded from disk goes through Bun's transpiler and its cache; embedded code never
 * does, so an empty transpiler cache after a build that used every worker shows nothing was read.
 */
import { afterAll, expect, test } from 'bun:test';
import { readdir } from 'node:fs/promises';
import { makeContext, runKiln, tempStateDir } from '../helpers/kiln.ts';
import { makeTempDir, removeAll } from '../../src/util/fs.ts';

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

test('a build runs no worker code from the source tree the binary was built from', async () => {
  const state = await tempStateDir();
  cleanups.push(state.cleanup);
  const ctx = await makeContext({ Dockerfile: 'FROM scratch\nCOPY . /app/\n', 'a.txt': 'a\n', 'd/b.txt': 'b\n' });
  cleanups.push(ctx.cleanup);
  const cache = await makeTempDir('kiln-transpiler-cache-');
  cleanups.push(() => removeAll(cache));
  // -o type=tar: the context checksum, the COPY and the layer tar all run on workers.
  const r = await runKiln(['build', '--progress=none', '-o', 'type=tar,dest=/dev/null', ctx.dir], { root: state.root, env: { BUN_RUNTIME_TRANSPILER_CACHE_PATH: cache } });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(await readdir(cache)).toEqual([]);
});
