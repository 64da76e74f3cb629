/**
 * Registry credentials as docker keeps them: a registry with Basic auth (docker-registry +
 * htpasswd); kiln login checks and stores them in $DOCKER_CONFIG/config.json, builds use
 * them, logout forgets them; a credential helper (credsStore) is asked instead when set.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { withBusyboxRegistry, type BusyboxRegistry } from '../helpers/busybox-image.ts';
import { makeContext, runKiln, tempStateDir } from '../helpers/kiln.ts';
import { makeTempDir, removeAll } from '../../src/util/fs.ts';

const USER = 'builder';
const PASSWORD = 's3cret-pass';
let reg: BusyboxRegistry;
let state: Awaited<ReturnType<typeof tempStateDir>>;
let home: string;

beforeAll(async () => {
  reg = await withBusyboxRegistry({ htpasswd: { user: USER, password: PASSWORD } });
  state = await tempStateDir();
  home = await makeTempDir('kiln-dockercfg-');
});
afterAll(async () => {
  await reg.stop();
  await state.cleanup();
  await removeAll(home);
});

describe('registry credentials', () => {
  test('login checks and stores, builds use them, logout forgets; a credential helper is asked when configured', async () => {
    const host = reg.ref.split('/')[0]!;
    const dockerConfig = join(home, 'docker');
    const env = { DOCKER_CONFIG: dockerConfig };
    const ctx = await makeContext({ Dockerfile: `FROM ${reg.ref}\nRUN echo ok > /ok\n` });
    try {
      const anon = await runKiln(['build', '--progress=plain', ctx.dir], { root: state.root, env });
      expect(anon.code).toBe(1);
      expect(anon.stderr).toMatch(/401|unauthorized|credentials/i);

      const wrong = await runKiln(['login', host, '-u', USER, '--password-stdin'], { root: state.root, env, input: 'nope\n' });
      expect(wrong.code).toBe(1);
      expect(wrong.stderr).toContain('refused these credentials');

      const ok = await runKiln(['login', host, '-u', USER, '--password-stdin'], { root: state.root, env, input: `${PASSWORD}\n` });
      expect(ok.code).toBe(0);
      expect(ok.stdout).toContain('Login Succeeded');
      const cfg = JSON.parse(await readFile(join(dockerConfig, 'config.json'), 'utf8'));
      expect(Buffer.from(cfg.auths[host].auth, 'base64').toString()).toBe(`${USER}:${PASSWORD}`);

      const built = await runKiln(['build', '--progress=plain', ctx.dir], { root: state.root, env });
      expect(built.code).toBe(0);
      expect(built.stderr).not.toContain(PASSWORD); // never in the logs

      expect((await runKiln(['logout', host], { root: state.root, env })).stdout).toContain(`Removing login credentials for ${host}`);
      expect(JSON.parse(await readFile(join(dockerConfig, 'config.json'), 'utf8')).auths[host]).toBeUndefined();

      // A credential helper on PATH, named by credsStore: docker-credential-kilntest get.
      const bin = join(home, 'bin');
      await mkdir(bin, { recursive: true });
      await writeFile(join(bin, 'docker-credential-kilntest'), `#!/bin/sh\nread server\n[ "$1" = get ] && [ "$server" = "${host}" ] && echo '{"ServerURL":"${host}","Username":"${USER}","Secret":"${PASSWORD}"}' && exit 0\necho "credentials not found" >&2; exit 1\n`);
      await chmod(join(bin, 'docker-credential-kilntest'), 0o755);
      await writeFile(join(dockerConfig, 'config.json'), JSON.stringify({ credsStore: 'kilntest' }));
      const helped = await runKiln(['build', '--progress=plain', '--no-cache', ctx.dir], { root: state.root, env: { ...env, PATH: `${bin}:${process.env.PATH}` } });
      if (helped.code !== 0) console.error(helped.stderr);
      expect(helped.code).toBe(0);
    } finally {
      await ctx.cleanup();
    }
  });

  test('push: kiln image push and -o type=image,push=true, refused without credentials, verified with skopeo', async () => {
    const host = reg.ref.split('/')[0]!;
    const dockerConfig = join(home, 'push-docker');
    const env = { DOCKER_CONFIG: dockerConfig };
    const other = await tempStateDir();
    const ctx = await makeContext({ Dockerfile: `FROM ${reg.ref}\nRUN echo pushed > /p\n`, 'pull/Dockerfile': `FROM ${host}/app:1\nRUN cat /p > /q\n` });
    try {
      expect((await runKiln(['login', host, '-u', USER, '--password-stdin'], { root: state.root, env, input: PASSWORD })).code).toBe(0);
      const b = await runKiln(['build', '--progress=plain', '-o', `type=image,name=${host}/app:1,push=true`, ctx.dir], { root: state.root, env });
      if (b.code !== 0) console.error(b.stderr);
      expect(b.code).toBe(0);
      expect(b.stderr).toContain(`pushed ${host}/app:1`);
      const inspect = spawnSync('skopeo', ['inspect', '--tls-verify=false', '--creds', `${USER}:${PASSWORD}`, `docker://${host}/app:1`], { encoding: 'utf8' });
      expect(inspect.status).toBe(0);
      // kiln image push of a re-tagged image; without credentials it is refused with a hint.
      expect((await runKiln(['image', 'tag', `${host}/app:1`, `${host}/app:2`], { root: state.root })).code).toBe(0);
      const anon = await runKiln(['image', 'push', `${host}/app:2`], { root: state.root, env: { DOCKER_CONFIG: join(home, 'nobody') } });
      expect(anon.code).toBe(1);
      expect(anon.stderr).toContain('kiln login');
      const pushed = await runKiln(['image', 'push', `${host}/app:2`], { root: state.root, env });
      expect(pushed.code).toBe(0);
      expect(pushed.stdout).toMatch(/already exists/);
      // Another state dir pulls what was pushed.
      const pull = await runKiln(['build', '--progress=plain', '-f', join(ctx.dir, 'pull', 'Dockerfile'), ctx.dir], { root: other.root, env });
      if (pull.code !== 0) console.error(pull.stderr);
      expect(pull.code).toBe(0);
    } finally {
      await ctx.cleanup();
      await other.cleanup();
    }
  });
});
