/**
 * The second machine of a CI fleet: an empty state dir that imports the cache another build
 * pushed to the registry (`--cache-from type=registry`), against the same build cold (empty
 * state dir, no cache). The floor is what an import and the output must at least do with the
 * same bytes: sha256 of the layer blobs it downloads and one copy of them. BuildKit's
 * remote-cache build of the same Dockerfile when a Docker engine answers (inline cache:
 * docker build's classic builder imports only that).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { kilnBin } from '../test/helpers/kiln.ts';
import { dockerAvailable, median, row, timeCommand } from './lib.ts';

export function remoteCacheBench(o: { base: string; host: string; work: string; runs: number }): void {
  const ctx = join(o.work, 'remote-cache');
  for (let i = 0; i < 500; i++) {
    const d = join(ctx, 'src', `d${i % 20}`);
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, `f${i}.c`), `int f${i}(void) { return ${i}; }\n`.repeat(40));
  }
  // A toolchain-sized layer (64 MiB), the sources, and a CPU-bound "compile".
  writeFileSync(
    join(ctx, 'Dockerfile'),
    `FROM ${o.base}
RUN head -c 67108864 /dev/urandom > /toolchain && sha256sum /toolchain > /toolchain.sum
COPY src /src
RUN find /src -type f | sort | xargs cat | sha256sum > /build.sum && i=0; while [ $i -lt 400000 ]; do i=$((i+1)); done
`,
  );
  const cacheRef = `${o.host}/bench-app:cache`;
  const state = (name: string) => join(o.work, `rc-state-${name}`);
  const clean = (dir: string) => spawnSync('rm', ['-rf', dir]);
  const out = join(o.work, 'rc-out.tar');
  // Machine A: builds and exports its cache.
  timeCommand(kilnBin, ['build', '--progress=none', '--cache-to', `type=registry,ref=${cacheRef},mode=max`, ctx], 1, { KILN_ROOT: state('a') });
  const cold: number[] = [];
  const warm: number[] = [];
  let blobs: string[] = [];
  for (let i = 0; i < o.runs; i++) {
    cold.push(timeCommand(kilnBin, ['build', '--progress=none', '-o', `type=oci,dest=${out}`, ctx], 1, { KILN_ROOT: state(`cold${i}`) })[0]!);
    clean(state(`cold${i}`));
    warm.push(timeCommand(kilnBin, ['build', '--progress=none', '--cache-from', `type=registry,ref=${cacheRef}`, '-o', `type=oci,dest=${out}`, ctx], 1, { KILN_ROOT: state(`warm${i}`) })[0]!);
    const dir = join(state(`warm${i}`), 'content', 'blobs', 'sha256');
    blobs = readdirSync(dir).map((h) => join(dir, h)).filter((p) => statSync(p).size > 4096);
    if (i < o.runs - 1) clean(state(`warm${i}`));
  }
  // The floor, on the blobs the last import downloaded: hash them once (as a download must)
  // and copy them once (as writing the output must).
  const copyDir = join(o.work, 'rc-floor');
  mkdirSync(copyDir);
  const t0 = performance.now();
  spawnSync('sh', ['-c', `cat ${blobs.join(' ')} | sha256sum >/dev/null; cp ${blobs.join(' ')} ${copyDir}/`]);
  const floor = performance.now() - t0;
  clean(copyDir);
  const bytes = blobs.reduce((n, p) => n + statSync(p).size, 0);
  clean(state(`warm${o.runs - 1}`));
  clean(state('a'));
  console.log(row('remote cache: 2nd machine, empty state', median(warm), `sha256+cp ${(bytes / 2 ** 20).toFixed(0)} MiB`, floor));
  console.log(`${'  the same build cold (no cache)'.padEnd(38)} ${(median(cold) / 1000).toFixed(2).padStart(8)} s   remote cache ×${(median(warm) / median(cold)).toFixed(2)} of cold`);
  const docker = process.env.DOCKER ?? 'docker';
  if (!dockerAvailable(docker)) {
    console.log('  (no Docker engine answered: BuildKit comparison skipped)');
    return;
  }
  const denv = { DOCKER_BUILDKIT: '1' };
  const image = `${o.host}/bench-app:inline`;
  // The engine starts each run as empty as kiln's state dir: no build cache, and neither the
  // image, the base nor any untagged image that holds their layers.
  const forget = () => {
    for (const args of [['builder', 'prune', '-af'], ['rmi', '-f', image, o.base], ['image', 'prune', '-f']]) spawnSync(docker, args, { stdio: 'ignore' });
  };
  forget();
  timeCommand(docker, ['build', '-q', '--network', 'host', '--build-arg', 'BUILDKIT_INLINE_CACHE=1', '-t', image, ctx], 1, denv);
  timeCommand(docker, ['push', image], 1, denv);
  const dWarm: number[] = [];
  for (let i = 0; i < o.runs; i++) {
    forget();
    dWarm.push(timeCommand(docker, ['build', '-q', '--network', 'host', '--cache-from', image, ctx], 1, denv)[0]!);
  }
  forget();
  console.log(`${'  vs BuildKit remote-cache build'.padEnd(38)} ${(median(dWarm) / 1000).toFixed(2).padStart(8)} s   kiln is ×${(median(dWarm) / median(warm)).toFixed(1)} faster`);
}
