/**
 * Secrets never leave the step: a file secret and an env secret used by several steps, every
 * output type at once plus a push to a real registry and the local image store; then every byte
 * of every artifact (tars opened, layers decompressed), the registry's storage, the whole state
 * dir (cache database included) and the progress output are searched: zero hits. A canary
 * written into a layer on purpose proves the search finds what is there.
 */
import { describe, expect, test } from 'bun:test';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeContext, runKiln } from '../helpers/kiln.ts';
import { useBuildEnv } from '../helpers/build-env.ts';
import { searchBytes } from '../helpers/search-bytes.ts';

const env = useBuildEnv();

describe('secrets', () => {
  test('never reach a layer, the config, the history, the cache, the state dir, a registry or the logs', async () => {
    const fileSecret = `file-s3cr3t-${Math.random().toString(36).slice(2)}`;
    const envSecret = `env-s3cr3t-${Math.random().toString(36).slice(2)}`;
    const canary = `canary-${Math.random().toString(36).slice(2)}`;
    const secretFile = join(env.out, 'input-secret');
    await writeFile(secretFile, fileSecret);
    const ctx = await makeContext({
      Dockerfile: [
        `FROM ${env.reg.ref}`,
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
      const image = `${env.reg.registry.host}/secret-test:1`;
      const outputs = [
        '-o', `type=oci,dest=${join(env.out, 'img.oci.tar')}`,
        '-o', `type=docker,dest=${join(env.out, 'img.docker.tar')}`,
        '-o', `type=tar,dest=${join(env.out, 'rootfs.tar')}`,
        '-o', `type=local,dest=${join(env.out, 'rootfs-dir')}`,
        '-o', `type=image,name=${image},push=true`,
        '-t', 'secret-test:local',
      ];
      const common = ['--secret', `id=tok,src=${secretFile}`, '--secret', 'id=api,env=KILN_SECRET_API', '--build-arg', `CANARY=${canary}`];
      const secretEnv = { KILN_SECRET_API: envSecret };
      const first = await runKiln(['build', '--progress=rawjson', ...common, ...outputs, ctx.dir], { root: env.state.root, env: secretEnv });
      if (first.code !== 0) console.error(first.stderr);
      expect(first.code).toBe(0);
      // a cached rebuild, with plain progress and every output again
      const second = await runKiln(['build', '--progress=plain', ...common, ...outputs, ctx.dir], { root: env.state.root, env: secretEnv });
      expect(second.code).toBe(0);
      const saved = join(env.out, 'saved.tar');
      expect((await runKiln(['image', 'save', '-o', saved, 'secret-test:local'], { root: env.state.root })).code).toBe(0);
      const logs = join(env.out, 'progress.log');
      await writeFile(logs, [first.stdout, first.stderr, second.stdout, second.stderr].join('\n'));

      const places = [env.state.root, env.reg.registry.storageDir, join(env.out, 'img.oci.tar'), join(env.out, 'img.docker.tar'), join(env.out, 'rootfs.tar'), join(env.out, 'rootfs-dir'), saved, logs];
      const hits = await searchBytes(places, [fileSecret, envSecret]);
      expect(hits).toEqual([]);

      // The steps did see the secrets.
      const { readFile } = await import('node:fs/promises');
      expect((await readFile(join(env.out, 'rootfs-dir', 'tok-len'), 'utf8')).trim()).toBe(String(fileSecret.length));
      expect((await readFile(join(env.out, 'rootfs-dir', 'api-len'), 'utf8')).trim()).toBe(String(envSecret.length));
      // The search is not blind: the canary written into a layer is found in every artifact kind.
      const canaryHits = await searchBytes(places, [canary]);
      for (const p of [join(env.out, 'img.oci.tar'), join(env.out, 'img.docker.tar'), join(env.out, 'rootfs.tar'), saved, env.reg.registry.storageDir, env.state.root]) {
        expect(canaryHits.some((h) => h.startsWith(p) && h.includes('gunzipped') === (p !== join(env.out, 'rootfs.tar') && p !== env.state.root))).toBe(true);
      }
    } finally {
      await ctx.cleanup();
    }
  });
});
