/**
 * Records what BuildKit produces for each case in test/fixtures/differential/<case>/context:
 * expected-config.json and expected-rootfs.txt (see test/differential/summarize.ts). Needs a
 * Docker engine with BuildKit (Debian's docker.io, started by hand: `dockerd --bridge=none
 * --iptables=false`), DOCKER_HOST pointing at it, and the busybox base loaded as
 * kiln-test/busybox:latest. A development tool: never run by CI; kiln does not depend on it.
 *   bun scripts/record-differential.ts [CASE...]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { summarizeConfig, summarizeRootfs } from '../test/differential/summarize.ts';
import { preparedContext } from '../test/differential/prepare.ts';

const root = resolve(import.meta.dirname, '..', 'test', 'fixtures', 'differential');
const docker = process.env.DOCKER ?? '/usr/bin/docker';
const env = { ...process.env, DOCKER_BUILDKIT: '1' };
const base = 'kiln-test/busybox:latest';

function run(args: string[]): string {
  const r = spawnSync(docker, args, { env, encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`docker ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

const cases = process.argv.slice(2).length ? process.argv.slice(2) : readdirSync(root).filter((n) => !n.endsWith('.json') && !n.endsWith('.md'));
for (const name of cases) {
  const prepared = await preparedContext(join(root, name));
  const ctx = prepared.context;
  const tmp = mkdtempSync(join(tmpdir(), 'kiln-record-'));
  try {
    const common = ['build', '--network', 'host', '--build-arg', `BASE=${base}`, ctx];
    run([...common.slice(0, -1), '-t', `kiln-diff:${name}`, ctx]);
    run([...common.slice(0, -1), '-o', `type=tar,dest=${join(tmp, 'rootfs.tar')}`, ctx]);
    run(['save', '-o', join(tmp, 'image.tar'), `kiln-diff:${name}`]);
    spawnSync('tar', ['-xf', join(tmp, 'image.tar'), '-C', tmp]);
    const manifest = JSON.parse(readFileSync(join(tmp, 'manifest.json'), 'utf8'))[0];
    const config = JSON.parse(readFileSync(join(tmp, manifest.Config), 'utf8'));
    writeFileSync(join(root, name, 'expected-config.json'), `${JSON.stringify(summarizeConfig(config), null, 2)}\n`);
    writeFileSync(join(root, name, 'expected-rootfs.txt'), await summarizeRootfs(join(tmp, 'rootfs.tar')));
    console.log(`recorded ${name}`);
  } catch (err) {
    console.error(`${name}: ${(err as Error).message.split('\n').slice(0, 8).join('\n')}`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
    rmSync(prepared.dir, { recursive: true, force: true });
  }
}
