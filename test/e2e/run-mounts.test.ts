/** RUN --mount: bind, cache, tmpfs, secret — run for real, and secrets never land anywhere. */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { withBusyboxRegistry, type BusyboxRegistry } from '../helpers/busybox-image.ts';
import { makeContext, runKiln, tempStateDir } from '../helpers/kiln.ts';
import { makeTempDir, removeAll } from '../../src/util/fs.ts';

let reg: BusyboxRegistry;
let state: Awaited<ReturnType<typeof tempStateDir>>;
let out: string;
beforeAll(async () => {
  reg = await withBusyboxRegistry();
  state = await tempStateDir();
  out = await makeTempDir('kiln-out-');
});
afterAll(async () => {
  await reg.stop();
  await state.cleanup();
  await removeAll(out);
});

async function build(files: Record<string, string>, extra: string[] = [], env: Record<string, string> = {}) {
  const ctx = await makeContext(files);
  try {
    const dest = join(out, `fs-${Math.random().toString(16).slice(2)}`);
    const r = await runKiln(['build', '--progress=plain', '-o', `type=local,dest=${dest}`, ...extra, ctx.dir], { root: state.root, env });
    return { r, read: (p: string) => readFile(join(dest, p), 'utf8').catch(() => undefined) };
  } finally {
    await ctx.cleanup();
  }
}

describe('RUN --mount', () => {
  test('bind (context, read-only by default; rw writes discarded), a stage, tmpfs', async () => {
    const { r, read } = await build({
      Dockerfile: [
        `FROM ${reg.ref} AS tools`,
        'RUN echo tool > /tool.txt',
        `FROM ${reg.ref}`,
        'RUN --mount=target=/ctx cat /ctx/data.txt > /from-ctx && (touch /ctx/x 2>/dev/null && echo rw > /ro-check || echo ro > /ro-check)',
        'RUN --mount=type=bind,target=/w,rw touch /w/written && ls /w > /rw-list',
        'RUN --mount=type=bind,from=tools,source=/tool.txt,target=/t.txt cat /t.txt > /from-stage',
        'RUN --mount=type=tmpfs,target=/scratch,size=1m df -k /scratch | tail -1 > /tmpfs && touch /scratch/gone',
        '',
      ].join('\n'),
      'data.txt': 'context data\n',
    });
    if (r.code !== 0) console.error(r.stderr);
    expect(r.code).toBe(0);
    expect(await read('from-ctx')).toBe('context data\n');
    expect(await read('ro-check')).toBe('ro\n');
    expect(await read('rw-list')).toContain('written');
    expect(await read('from-stage')).toBe('tool\n');
    expect(await read('tmpfs')).toMatch(/tmpfs|1024/);
    expect(await read('scratch/gone')).toBeUndefined();
    expect(await read('ctx')).toBe(undefined);
  });

  test('a cache mount keeps files across builds and stays out of the image', async () => {
    const df = `FROM ${reg.ref}\nARG RUNID\nRUN --mount=type=cache,target=/cache,uid=1000,mode=0750 echo $RUNID >> /cache/runs && cat /cache/runs > /seen && stat -c '%u %a' /cache > /perm\n`;
    const one = await build({ Dockerfile: df }, ['--build-arg', 'RUNID=one']);
    expect(one.r.code).toBe(0);
    expect(await one.read('seen')).toBe('one\n');
    expect(await one.read('perm')).toBe('1000 750\n');
    const two = await build({ Dockerfile: df }, ['--build-arg', 'RUNID=two']);
    expect(await two.read('seen')).toBe('one\ntwo\n');
    expect(await two.read('cache/runs')).toBeUndefined();
  });

  test('sharing=locked serializes two concurrent builds (timestamps written inside the steps)', async () => {
    const df = (who: string) =>
      `FROM ${reg.ref}\nRUN --mount=type=cache,id=locktest,target=/c,sharing=locked echo "${who} start $(date +%s)" >> /c/log && sleep 1 && echo "${who} end $(date +%s)" >> /c/log && cp /c/log /log\n`;
    const [a, b] = await Promise.all([build({ Dockerfile: df('a') }), build({ Dockerfile: df('b') })]);
    expect(a.r.code).toBe(0);
    expect(b.r.code).toBe(0);
    const log = ((await b.read('log')) ?? '').length > ((await a.read('log')) ?? '').length ? await b.read('log') : await a.read('log');
    const lines = log!.trim().split('\n').map((l) => l.split(' '));
    expect(lines.map((l) => l[1])).toEqual(['start', 'end', 'start', 'end']);
    expect(lines[0]![0]).toBe(lines[1]![0]);
    expect(Number(lines[2]![2])).toBeGreaterThanOrEqual(Number(lines[1]![2]));
  });

  test('sharing=private: a concurrent build gets its own copy, dropped afterwards', async () => {
    const df = (who: string) =>
      `FROM ${reg.ref}\nRUN --mount=type=cache,id=privtest,target=/c,sharing=private echo ${who}-${Math.random()} && sleep 1 && touch /c/${who} && sleep 1 && ls /c > /seen\n`;
    const [a, b] = await Promise.all([build({ Dockerfile: df('a') }), build({ Dockerfile: df('b') })]);
    expect(a.r.code).toBe(0);
    expect(b.r.code).toBe(0);
    expect(await a.read('seen')).toBe('a\n');
    expect(await b.read('seen')).toBe('b\n');
    // exactly one of them wrote the persistent dir
    const after = await build({ Dockerfile: `FROM ${reg.ref}\nRUN --mount=type=cache,id=privtest,target=/c echo ${Math.random()} && ls /c > /seen\n` });
    expect(['a\n', 'b\n']).toContain((await after.read('seen'))!);
  });

  test('bind from an image; cache from+source initial contents, gid; keys in any case; tmpfs size', async () => {
    const { r, read } = await build({
      Dockerfile: [
        `FROM ${reg.ref} AS seed`,
        'RUN mkdir -p /seed && echo seeded > /seed/init.txt',
        `FROM ${reg.ref}`,
        `RUN --mount=type=bind,from=${reg.ref},source=/bin,target=/img-bin ls /img-bin | grep -c . > /img-count`,
        `RUN --mount=type=cache,id=seeded-${Math.random()},target=/c,from=seed,source=/seed cat /c/init.txt > /cache-init`,
        `RUN --mount=type=cache,id=gid-${Math.random()},target=/g,gid=4242,mode=0770 stat -c '%g %a' /g > /cache-gid`,
        'RUN --mount=Type=Tmpfs,Target=/t,Size=2m df -k /t | tail -1 | awk \'{print $2}\' > /tmpfs-size',
        '',
      ].join('\n'),
    });
    if (r.code !== 0) console.error(r.stderr);
    expect(r.code).toBe(0);
    expect(Number(await read('img-count'))).toBeGreaterThan(0);
    expect(await read('cache-init')).toBe('seeded\n');
    expect(await read('cache-gid')).toBe('4242 770\n');
    expect(await read('tmpfs-size')).toBe('2048\n');
  });

  test('secret keys: target, mode, uid, gid, required; --secret id=X alone reads $X', async () => {
    const value = `v-${Math.random()}`;
    const df = [
      `FROM ${reg.ref}`,
      'RUN --mount=type=secret,id=TOKEN,target=/opt/tok,mode=0440,uid=1000,gid=2000 stat -c "%a %u %g" /opt/tok > /perm && wc -c < /opt/tok > /len',
      '',
    ].join('\n');
    const ok = await build({ Dockerfile: df }, ['--secret', 'id=TOKEN'], { TOKEN: value });
    if (ok.r.code !== 0) console.error(ok.r.stderr);
    expect(ok.r.code).toBe(0);
    expect(await ok.read('perm')).toBe('440 1000 2000\n');
    expect((await ok.read('len'))?.trim()).toBe(String(value.length));
    const missing = await build({ Dockerfile: `FROM ${reg.ref}\nRUN --mount=type=secret,id=nope,required ls\n` });
    expect(missing.r.code).not.toBe(0);
    expect(missing.r.stderr).toContain('secret nope: not found');
    const badKey = await build({ Dockerfile: `FROM ${reg.ref}\nRUN --mount=type=secret,id=x,sharing=locked ls\n` });
    expect(badKey.r.code).not.toBe(0);
    expect(badKey.r.stderr).toContain('Dockerfile:2');
  });

  test('secrets from a file and from the environment reach the step and nothing else', async () => {
    const secretValue = `s3cr3t-${Math.random().toString(36).slice(2)}`;
    const envValue = `envs3cr3t-${Math.random().toString(36).slice(2)}`;
    const sf = join(out, 'secret.txt');
    await writeFile(sf, secretValue);
    const { r, read } = await build(
      {
        Dockerfile: [
          `FROM ${reg.ref}`,
          'RUN --mount=type=secret,id=tok test "$(cat /run/secrets/tok)" = "$(cat /run/secrets/tok)" && wc -c < /run/secrets/tok > /len && stat -c %a /run/secrets/tok > /mode',
          'RUN --mount=type=secret,id=api,env=API_KEY test -n "$API_KEY" && echo ${#API_KEY} > /envlen',
          'RUN --mount=type=secret,id=missing ls /run/secrets > /optional || true',
          '',
        ].join('\n'),
      },
      ['--secret', `id=tok,src=${sf}`, '--secret', 'id=api,env=KILN_TEST_API', '-o', `type=oci,dest=${join(out, 'img.tar')}`],
      { KILN_TEST_API: envValue },
    );
    if (r.code !== 0) console.error(r.stderr);
    expect(r.code).toBe(0);
    expect((await read('len'))?.trim()).toBe(String(secretValue.length));
    expect((await read('mode'))?.trim()).toBe('400');
    expect((await read('envlen'))?.trim()).toBe(String(envValue.length));
    for (const v of [secretValue, envValue]) {
      expect(r.stderr).not.toContain(v);
      const grep = spawnSync('grep', ['-rla', v, state.root, join(out, 'img.tar'), ...(await localDirs())], { encoding: 'utf8' });
      expect(grep.stdout.split('\n').filter((l) => l && !l.endsWith('secret.txt'))).toEqual([]);
    }
    expect(spawnSync('sh', ['-c', 'ls /dev/shm | grep kiln-secret || true'], { encoding: 'utf8' }).stdout).toBe('');
  });
});

async function localDirs(): Promise<string[]> {
  const { readdir } = await import('node:fs/promises');
  return (await readdir(out)).filter((n) => n.startsWith('fs-')).map((n) => join(out, n));
}
