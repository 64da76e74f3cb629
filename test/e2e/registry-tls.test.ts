/**
 * A registry over https with its own CA (docker-registry with a certificate made here): the
 * config file's `ca` makes push and pull work, `insecure = true` skips verification, and an
 * untrusted certificate fails with a message that says so.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startRegistry, type TestRegistry } from '../helpers/registry.ts';
import { makeContext, runKiln, tempStateDir } from '../helpers/kiln.ts';
import { makeTempDir, removeAll } from '../../src/util/fs.ts';

let dir: string;
let reg: TestRegistry;
const openssl = (args: string[]) => {
  const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
};
beforeAll(async () => {
  dir = await makeTempDir('kiln-tls-');
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=kiln-test-ca']);
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'other.key', '-out', 'other.pem', '-days', '2', '-subj', '/CN=another-ca']);
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'srv.key', '-out', 'srv.csr', '-subj', '/CN=127.0.0.1']);
  await writeFile(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1\n');
  openssl(['x509', '-req', '-in', 'srv.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'srv.pem', '-days', '2', '-extfile', 'ext.cnf']);
  reg = await startRegistry({ tls: { cert: join(dir, 'srv.pem'), key: join(dir, 'srv.key') } });
});
afterAll(async () => {
  await reg?.stop();
  await removeAll(dir);
});

async function config(name: string, body: string): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, `[registry."${reg.host}"]\n${body}\n`);
  return p;
}

describe('registry with its own CA', () => {
  test('push and pull with `ca`; `insecure = true` skips verification; an unknown CA is refused', async () => {
    const withCa = await config('ca.toml', `ca = ["${join(dir, 'ca.pem')}"]`);
    const insecure = await config('insecure.toml', 'insecure = true');
    const wrong = await config('wrong.toml', `ca = ["${join(dir, 'other.pem')}"]`);
    const image = `${reg.host}/tls-test:1`;
    const src = await makeContext({ Dockerfile: 'FROM scratch\nCOPY hello.txt /\n', 'hello.txt': 'over tls\n' });
    const use = await makeContext({ Dockerfile: `FROM ${image}\n` });
    const states = await Promise.all([tempStateDir(), tempStateDir(), tempStateDir(), tempStateDir()]);
    const out = await makeTempDir('kiln-tls-out-');
    try {
      const push = await runKiln(['build', '--config', withCa, '-o', `type=image,name=${image},push=true`, src.dir], { root: states[0]!.root });
      if (push.code !== 0) console.error(push.stderr);
      expect(push.code).toBe(0);

      const pull = await runKiln(['build', '--config', withCa, '-o', `type=local,dest=${join(out, 'a')}`, use.dir], { root: states[1]!.root });
      if (pull.code !== 0) console.error(pull.stderr);
      expect(pull.code).toBe(0);
      expect(spawnSync('cat', [join(out, 'a', 'hello.txt')], { encoding: 'utf8' }).stdout).toBe('over tls\n');

      const skip = await runKiln(['build', '--config', insecure, '-o', `type=local,dest=${join(out, 'b')}`, use.dir], { root: states[2]!.root });
      expect(skip.code).toBe(0);

      const refused = await runKiln(['build', '--config', wrong, '-o', `type=local,dest=${join(out, 'c')}`, use.dir], { root: states[3]!.root });
      expect(refused.code).not.toBe(0);
      expect(refused.stderr.toLowerCase()).toMatch(/certificate|self.signed|verify/);
      expect(refused.stderr).toContain(`[registry."${reg.host}"] ca = `);

      const missing = await config('missing.toml', 'ca = ["/nonexistent/ca.pem"]');
      const bad = await runKiln(['build', '--config', missing, use.dir], { root: states[3]!.root });
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('cannot read ca /nonexistent/ca.pem');
    } finally {
      await src.cleanup();
      await use.cleanup();
      for (const s of states) await s.cleanup();
      await removeAll(out);
    }
  }, 60_000);
});
