/**
 * The main job, offline: make a busybox base image from Debian's busybox-static, serve it
 * from a local registry (Debian's docker-registry on 127.0.0.1), build examples/hello with
 * dist/kiln into OCI and docker archives, check them with skopeo, then build again to show
 * the cache. Run by scripts/setup.sh; needs root.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { withBusyboxRegistry } from '../test/helpers/busybox-image.ts';

const root = resolve(import.meta.dirname, '..');
const kiln = join(root, 'dist', 'kiln');
const out = join(root, 'out');
const state = process.env.KILN_ROOT ?? join(root, '.kiln-demo-state');

function run(cmd: string, args: string[]): void {
  console.log(`$ ${[cmd, ...args].join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, KILN_ROOT: state } });
  if (r.status !== 0) throw new Error(`${cmd} exited with ${r.status ?? r.signal}`);
}

if (!existsSync(kiln)) throw new Error(`${kiln} is missing: run npm run build first`);
mkdirSync(out, { recursive: true });
const base = await withBusyboxRegistry();
try {
  console.log(`local registry at ${base.registry.host} holds ${base.ref} (${base.manifestDigest})`);
  const build = [
    'build',
    '--progress=plain',
    '--build-arg',
    `BASE=${base.ref}`,
    '-t',
    'kiln-hello:latest',
    '-o',
    `type=oci,dest=${join(out, 'hello.oci.tar')}`,
    '-o',
    `type=docker,dest=${join(out, 'hello.docker.tar')}`,
    join(root, 'examples', 'hello'),
  ];
  run(kiln, build);
  run('skopeo', ['inspect', `oci-archive:${join(out, 'hello.oci.tar')}`]);
  run('skopeo', ['inspect', '--config', `docker-archive:${join(out, 'hello.docker.tar')}`]);
  console.log('\nbuilding again: every step comes from the cache');
  run(kiln, build);
  console.log(`\nimages written to ${out}/ (state dir ${state})`);
} finally {
  await base.stop();
}
