/**
 * Secrets never leave the step: a file secret and an env secret used by several steps, every
 * output type at once plus a push to a real registry and the local image store; then every byte
 * of every artifact (tars opened, layers decompressed), the registry's storage, the whole state
 * dir (cache database included) and the progress output are searched: zero hits. A canary
 * written into a layer on purpose proves the search finds what is there.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { withBusyboxRegistry, type BusyboxRegistry } from '../helpers/busybox-image.ts';
import { makeContext, runKiln, tempStateDir } from '../helpers/kiln.ts';
import { searchBytes } from '../helpers/search-bytes.ts';
import { makeTempDir, removeAll } from '../../src/util/fs.ts';

let reg: BusyboxRegistry;
let state: Awaited<ReturnType<typeof tempStateDir>>;
let out: string;
beforeAll(async () => {
  reg = await withBusyboxRegistry();
  state = await tempStateDir();
  out = await makeTempDir('kiln-secret-out-');
});
afterAll(async () => {
  await reg.stop();
  await state.cleanup();
  await removeAll(out);
});

describe('secrets', () => {
  test('never reach a layer, the config, the history, the cache, the state dir, a registry or the logs', async () => {
    const fileSecret = `file-s3cr3t-${Math.random().toString(36).slice(2)}`;
    const envSecret = `env-s3cr3t-${Math.random().toString(36).slice(2)}`;
    const canary = `canary-${Math.random().toString(36).slice(2)}`;
    const secretFile = join(out, 'input-secret');
    await writeFile(secretFile, fileSecret);
    const ctx = await makeContext({
      Dockerfile: [
        `FROM ${reg.ref}`,
        'ARG CANARY',
        'RUN --mount=type=secret,id=tok test "$(cat /run/secrets/tok)" != "" && wc -c < /run/secrets/tok > /tok-len',
        'RUN --mount=type=secret,id=tok,target=/etc/tok --mount=type=secret,id=api,env=API_KEY \\',
        '    test -n "$API_KEY" && echo "${#API_KEY}" > /api-len && cat /etc/tok | wc -c > /tok-len2 && echo "$API_KEY" > /dev/null',
        'RUN --mount=type=secret,id=api,env=API_KEY --mount=type=secret,id=tok echo "$CANARY" > /canary && echo uses-both > /both',
        'ENV AFTER=1',
        '',
      ].join('\n'),
    });
    try {
      const image = `${reg.registry.host}/secret-test:1`;
      const outputs = [
        '-o', `type=oci,dest=${join(out, 'img.oci.tar')}`,
        '-o', `type=docker,dest=${join(out, 'img.docker.tar')}`,
        '-o', `type=tar,dest=${join(out, 'rootfs.tar')}`,
        '-o', `type=local,dest=${join(out, 'rootfs-dir')}`,
        '-o', `type=image,name=${image},push=true`,
        '-t', 'secret-test:local',
      ];
      const common = ['--secret', `id=tok,src=${secretFile}`, '--secret', 'id=api,env=KILN_SECRET_API', '--build-arg', `CANARY=${canary}`];
      const env = { KILN_SECRET_API: envSecret };
      const first = await runKiln(['build', '--progress=rawjson', ...common, ...outputs, ctx.dir], { root: state.root, env });
      if (first.code !== 0) console.error(first.stderr);
      expect(first.code).toBe(0);
      // a cached rebuild, with plain progress and every output again
      const second = await runKiln(['build', '--progress=plain', ...common, ...outputs, ctx.dir], { root: state.root, env });
      expect(second.code).toBe(0);
      const saved = join(out, 'saved.tar');
      expect((await runKiln(['image', 'save', '-o', saved, 'secret-test:local'], { root: state.root })).code).toBe(0);
      const logs = join(out, 'progress.log');
      await writeFile(logs, [first.stdout, first.stderr, second.stdout, second.stderr].join('\n'));

      const places = [state.root, reg.registry.storageDir, join(out, 'img.oci.tar'), join(out, 'img.docker.tar'), join(out, 'rootfs.tar'), join(out, 'rootfs-dir'), saved, logs];
      const hits = await searchBytes(places, [fileSecret, envSecret]);
      expect(hits).toEqual([]);

      // The steps did see the secrets.
      const { readFile } = await import('node:fs/promises');
      expect((await readFile(join(out, 'rootfs-dir', 'tok-len'), 'utf8')).trim()).toBe(String(fileSecret.length));
      expect((await readFile(join(out, 'rootfs-dir', 'api-len'), 'utf8')).trim()).toBe(String(envSecret.length));
      // The search is not blind: the canary written into a layer is found in every artifact kind.
      const canaryHits = await searchBytes(places, [canary]);
      for (const p of [join(out, 'img.oci.tar'), join(out, 'img.docker.tar'), join(out, 'rootfs.tar'), saved, reg.registry.storageDir, state.root]) {
        expect(canaryHits.some((h) => h.startsWith(p) && h.includes('gunzipped') === (p !== join(out, 'rootfs.tar') && p !== state.root))).toBe(true);
      }
    } finally {
      await ctx.cleanup();
    }
  });
});
