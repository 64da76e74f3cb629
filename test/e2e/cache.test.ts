/** Cache keys follow content: only the files a step copies count, and mtimes never do. */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeContext, runKiln, tempStateDir } from '../helpers/kiln.ts';

let state: Awaited<ReturnType<typeof tempStateDir>>;
let ctx: Awaited<ReturnType<typeof makeContext>>;
beforeAll(async () => {
  state = await tempStateDir();
  ctx = await makeContext({
    Dockerfile: 'FROM scratch\nCOPY app/*.txt /app/\nCOPY other.txt /other.txt\n',
    'app/a.txt': 'a\n',
    'app/b.txt': 'b\n',
    'app/skip.md': 'not copied\n',
    'other.txt': 'o\n',
  });
});
afterAll(async () => {
  await ctx.cleanup();
  await state.cleanup();
});

const build = () => runKiln(['build', '--progress=plain', ctx.dir], { root: state.root });
const ran = (stderr: string) => Number(/(\d+) steps run/.exec(stderr)?.[1]);

describe('content-based cache keys', () => {
  test('first build runs both copies', async () => {
    const r = await build();
    expect(r.code).toBe(0);
    expect(ran(r.stderr)).toBe(2);
  });

  test('touching files (mtime only) invalidates nothing', async () => {
    const later = new Date(Date.now() + 3600_000);
    for (const f of ['app/a.txt', 'other.txt', 'Dockerfile']) await utimes(join(ctx.dir, f), later, later);
    const r = await build();
    expect(ran(r.stderr)).toBe(0);
  });

  test('editing a file no step copies invalidates nothing', async () => {
    await writeFile(join(ctx.dir, 'app/skip.md'), 'edited\n');
    await writeFile(join(ctx.dir, 'unrelated.txt'), 'new file\n');
    const r = await build();
    expect(ran(r.stderr)).toBe(0);
  });

  test('editing a copied file reruns that step and the ones after it', async () => {
    await writeFile(join(ctx.dir, 'app/b.txt'), 'b2\n');
    const r = await build();
    expect(r.stderr).toMatch(/COPY app\/\*\.txt \/app\/\n#\d+ cache miss: files copied from context changed/);
    expect(r.stderr).toMatch(/COPY other.txt \/other.txt\n#\d+ cache miss: input changed: \[1\/2\] COPY app/);
    expect(ran(r.stderr)).toBe(2);
  });

  test('the first build of a step says so; a changed field is named', async () => {
    await writeFile(join(ctx.dir, 'Dockerfile'), 'FROM scratch\nARG V\nCOPY other.txt /v-$V\n');
    const a = await runKiln(['build', '--progress=plain', '--build-arg', 'V=1', ctx.dir], { root: state.root });
    expect(a.stderr).toContain('cache miss: no earlier build of this step');
    const b = await runKiln(['build', '--progress=plain', '--build-arg', 'V=2', ctx.dir], { root: state.root });
    expect(b.stderr).toContain('cache miss: copy dest: "/v-1" → "/v-2"');
  });

  test('--no-cache-filter runs only the named stage; --no-cache runs everything', async () => {
    await writeFile(join(ctx.dir, 'Dockerfile'), 'FROM scratch AS a\nCOPY other.txt /a\nFROM a AS b\nCOPY other.txt /b\n');
    expect((await runKiln(['build', '--progress=plain', ctx.dir], { root: state.root })).code).toBe(0);
    const f = await runKiln(['build', '--progress=plain', '--no-cache-filter', 'b', ctx.dir], { root: state.root });
    expect(ran(f.stderr)).toBe(1);
    expect(f.stderr).toContain('--no-cache-filter');
    const all = await runKiln(['build', '--progress=plain', '--no-cache', ctx.dir], { root: state.root });
    expect(ran(all.stderr)).toBe(2);
  });
});
