/** bench/run.ts's rootfs scenario (BENCH_ONLY=rootfs). */
import { mkdirSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { kilnBin } from '../test/helpers/kiln.ts';
import { dockerAvailable, median, row, timeCommand } from './lib.ts';

/**
 * Issue 20's real-world export: a fully cached build of a ~420 MB root file system of real
 * Debian files (symlinks, hard links, many small files), `-o type=tar` and `-o type=local`,
 * interleaved with `tar -cf` and `cp -a` of the same tree, on `dir` (a fresh ext4); and
 * BuildKit's `-o type=tar` of it when an engine answers.
 */
export function rootfsBench(dir: string, N: number): void {
  const ctx = join(dir, 'rootfs');
  mkdirSync(join(ctx, 'usr', 'lib'), { recursive: true });
  mkdirSync(join(ctx, 'usr', 'share'), { recursive: true });
  // Host directories whose copy stands for an apt-installed root file system (~420 MB, ~16k files of real Debian content).
  const dirs = ['/usr/lib/python3.11', '/usr/lib/gcc', '/usr/share/doc', '/usr/include'];
  const present = dirs.filter((d) => spawnSync('test', ['-d', d]).status === 0);
  for (const d of present) spawnSync('cp', ['-a', d, join(ctx, d.split('/').slice(1, -1).join('/'))]);
  writeFileSync(join(ctx, 'Dockerfile'), 'FROM scratch\nCOPY usr /usr\n');
  const size = spawnSync('du', ['-sm', join(ctx, 'usr')], { encoding: 'utf8' }).stdout.split('\t')[0];
  const files = spawnSync('sh', ['-c', `find ${join(ctx, 'usr')} | wc -l`], { encoding: 'utf8' }).stdout.trim();
  const st = join(dir, 'rootfs-state');
  timeCommand(kilnBin, ['build', '--progress=none', ctx], 1, { KILN_ROOT: st }); // the layer made once: the exports below are fully cached
  const runs: Record<string, number[]> = { tarOut: [], tarCf: [], localOut: [], cpA: [], dTar: [] };
  const t = (k: string, f: () => void) => {
    const t0 = performance.now();
    f();
    runs[k]!.push(performance.now() - t0);
  };
  const docker = process.env.DOCKER ?? 'docker';
  const withDocker = dockerAvailable(docker);
  if (withDocker) timeCommand(docker, ['build', '-q', ctx], 1, { DOCKER_BUILDKIT: '1' });
  // Each command starts on a quiet disk: the last one's output removed and written back first.
  const quiet = () => spawnSync('sh', ['-c', `rm -rf ${['r.tar', 'r2.tar', 'rl', 'rcp', 'rd.tar'].map((f) => join(dir, f)).join(' ')}; sync`]);
  for (let i = 0; i < Math.min(N, 3); i++) {
    quiet();
    t('tarOut', () => timeCommand(kilnBin, ['build', '--progress=none', '-o', `type=tar,dest=${join(dir, 'r.tar')}`, ctx], 1, { KILN_ROOT: st }));
    quiet();
    t('tarCf', () => spawnSync('sh', ['-c', `tar -cf - -C ${ctx} usr > ${join(dir, 'r2.tar')}`]));
    quiet();
    if (withDocker) t('dTar', () => timeCommand(docker, ['build', '-q', '-o', `type=tar,dest=${join(dir, 'rd.tar')}`, ctx], 1, { DOCKER_BUILDKIT: '1' }));
    quiet();
    t('localOut', () => timeCommand(kilnBin, ['build', '--progress=none', '-o', `type=local,dest=${join(dir, 'rl')}`, ctx], 1, { KILN_ROOT: st }));
    quiet();
    t('cpA', () => spawnSync('cp', ['-a', join(ctx, 'usr'), join(dir, 'rcp')]));
  }
  quiet();
  console.log(`rootfs: ${size} MB, ${files} entries of ${present.join(' ')}, fully cached`);
  console.log(row('  -o type=tar', median(runs.tarOut!), 'tar -cf of the tree', median(runs.tarCf!)));
  console.log(row('  -o type=local', median(runs.localOut!), 'cp -a of the tree', median(runs.cpA!)));
  if (withDocker) console.log(`${'  vs BuildKit -o type=tar'.padEnd(38)} ${(median(runs.dTar!) / 1000).toFixed(2).padStart(8)} s   kiln is ×${(median(runs.dTar!) / median(runs.tarOut!)).toFixed(1)} faster`);
}
