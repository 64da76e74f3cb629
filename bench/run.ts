/**
 * npm run bench: each scenario's median next to the physical floor measured in the same
 * run (the machine is shared and noisy: compare ratios, not absolute times).
 *   startup      `kiln version`                 vs spawning /bin/true
 *   scratch      FROM scratch + LABEL build      vs spawning /bin/true
 *   cached       fully cached rebuild (COPY of a 2,000-file context + RUN)
 *                                                vs sha256 of the context's bytes
 *   cached 20k   the same with a 20,000-file context, on a fresh journaled ext4;
 *                and docker build (BuildKit) of it when a Docker engine answers
 *                (DOCKER=/usr/bin/docker DOCKER_HOST=unix:///... npm run bench)
 *   context      20,000 files of 1-4 KiB + 20 of 10 MiB, `COPY . /app`: first build vs `cp -a` of the
 *                tree; a rebuild after editing one small file, as a fraction of the first build;
 *                both against docker build when a Docker engine answers
 *   parallel     4 independent stages each `RUN sleep 2`  vs the longest stage built alone;
 *                and the runtime's own floor: 4 bare `runc run true` at once vs one
 *   export       a 1 GiB layer exported as OCI vs gzip -6 and sha256sum of the same bytes, peak RSS
 *                (BENCH_EXPORT_MIB sets the size)
 *   progress     a build whose RUN prints 10,000 lines, in each progress mode vs --progress=none
 *                (tty under `script`, against none under `script`)
 *   remote cache a fresh state dir importing a registry cache (--cache-from) vs the same build
 *                cold, next to sha256+gunzip of the layers it downloads; and BuildKit's
 *                remote-cache build when a Docker engine answers
 *   convert      10,000-instruction Dockerfiles (ENV, ARG, mixed, RUN) through `kiln debug llb`
 *                vs `kiln version` (the process's own start): conversion must stay linear
 *   rootfs       a ~420 MB root file system of real Debian files, fully cached: -o type=tar and
 *                type=local vs tar -cf and cp -a of the tree (and BuildKit's -o type=tar)
 * BENCH_ONLY=context|export|progress|remote-cache|convert|parallel|cached|rootfs runs one scenario alone.
 * DOCKER=/usr/bin/docker (Debian's docker.io, `dockerd --bridge=none --iptables=false`) adds BuildKit's figures.
 */
import { closeSync, createWriteStream, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { createPlainPrinter } from '../src/progress/plain.ts';
import { createRawJsonPrinter } from '../src/progress/rawjson.ts';
import { createTtyPrinter } from '../src/progress/tty.ts';
import type { ProgressSink } from '../src/progress/events.ts';
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { kilnBin } from '../test/helpers/kiln.ts';
import { withBusyboxRegistry } from '../test/helpers/busybox-image.ts';
import { makeTempDir, removeAll } from '../src/util/fs.ts';
import { remoteCacheBench } from './remote-cache.ts';
import { rootfsBench } from './rootfs.ts';
import { dockerAvailable, freshExt4, hashTreeMs, median, row, runtimeStartFloor, timeCommand } from './lib.ts';

const N = Number(process.env.BENCH_RUNS ?? 15);
const EXPORT_MIB = Number(process.env.BENCH_EXPORT_MIB ?? 1024);
/** Waits out the 2 s in which a just-written file's stat cannot vouch for its content (context-index.ts). */
const settle = () => spawnSync('sleep', ['2.1']);
const state = await makeTempDir('kiln-bench-state-');
const work = await makeTempDir('kiln-bench-');
const env = { KILN_ROOT: state };
const reg = await withBusyboxRegistry();
if (['export', 'context', 'progress', 'remote-cache', 'convert', 'parallel', 'cached', 'rootfs'].includes(process.env.BENCH_ONLY ?? '')) {
  try {
    if (process.env.BENCH_ONLY === 'export') exportBench();
    else if (process.env.BENCH_ONLY === 'parallel') parallelBench();
    else if (process.env.BENCH_ONLY === 'cached') cachedRebuild(work, 'ctx', 2000, state);
    else if (process.env.BENCH_ONLY === 'rootfs') {
      const disk = freshExt4(4096, work);
      try {
        rootfsBench(disk.dir, N);
      } finally {
        disk.cleanup();
      }
    }
    else if (process.env.BENCH_ONLY === 'convert') convertBench();
    else if (process.env.BENCH_ONLY === 'remote-cache') remoteCacheBench({ base: reg.ref, host: reg.registry.host, work, runs: Math.min(N, 5) });
    else if (process.env.BENCH_ONLY === 'progress') progressBench();
    else {
      const disk = freshExt4(4096, work);
      try {
        mixedContextBench(disk.dir);
      } finally {
        disk.cleanup();
      }
    }
  } finally {
    await reg.stop();
    await removeAll(work);
    await removeAll(state);
  }
  process.exit(0);
}
try {
  console.log(`kiln bench: ${N} runs per scenario, medians\n`);
  const trueMs = median(timeCommand('/bin/true', [], N));

  // The runtime's own floor: a Bun-compiled binary that prints one line.
  const hello = join(work, 'hello');
  writeFileSync(`${hello}.ts`, 'console.log("hi");\n');
  spawnSync(process.execPath, ['build', '--compile', `${hello}.ts`, '--outfile', hello], { stdio: 'ignore' });
  const helloMs = median(timeCommand(hello, [], N));
  const startup = median(timeCommand(kilnBin, ['version'], N, env));
  console.log(row('startup: kiln version', startup, 'spawn /bin/true', trueMs));
  console.log(row('startup: kiln version', startup, 'Bun hello binary', helloMs));

  const scratch = join(work, 'scratch');
  mkdirSync(scratch);
  writeFileSync(join(scratch, 'Dockerfile'), 'FROM scratch\nLABEL a=b\n');
  const scratchMs = median(timeCommand(kilnBin, ['build', '--progress=quiet', scratch], N, env));
  console.log(row('build: FROM scratch + LABEL', scratchMs, 'spawn /bin/true', trueMs));

  cachedRebuild(work, 'ctx', 2000, state);
  convertBench();

  const disk = freshExt4(8192, work);
  try {
    const big = cachedRebuild(disk.dir, 'ctx20k', 20_000, join(disk.dir, 'state'));
    const docker = process.env.DOCKER ?? 'docker';
    if (dockerAvailable(docker)) {
      // The same base for BuildKit: the busybox image loaded into the engine.
      const host = process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
      spawnSync('skopeo', ['copy', '--dest-tls-verify=false', '--src-tls-verify=false', `docker://${reg.ref}`, 'docker-daemon:kiln-bench/busybox:latest', '--dest-daemon-host', host], { stdio: 'ignore' });
      const dargs = ['build', '-q', '--network', 'host', '--build-arg', 'BASE=kiln-bench/busybox:latest', big.ctx];
      const denv = { DOCKER_BUILDKIT: '1' };
      timeCommand(docker, dargs, 1, denv);
      const dms = median(timeCommand(docker, dargs, N, denv));
      console.log(`${'  vs BuildKit (docker build, cached)'.padEnd(38)} ${(dms / 1000).toFixed(2).padStart(8)} s   kiln is ×${(dms / big.ms).toFixed(1)} faster`);
    } else console.log('  (no Docker engine answered: BuildKit comparison skipped)');
    mixedContextBench(disk.dir);
    rootfsBench(disk.dir, N);
  } finally {
    disk.cleanup();
  }

  parallelBench();
  progressBench();
  remoteCacheBench({ base: reg.ref, host: reg.registry.host, work, runs: Math.min(N, 5) });
  exportBench();
} finally {
  await reg.stop();
  await removeAll(work);
  await removeAll(state);
}

/** A fully cached rebuild of a 30-instruction Dockerfile over `files` files, next to sha256 of the context. */
function cachedRebuild(root: string, dir: string, files: number, stateDir: string): { ctx: string; ms: number } {
  const ctx = join(root, dir);
  for (let i = 0; i < files; i++) {
    const d = join(ctx, `d${i % 50}`);
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, `f${i}.txt`), `file ${i}\n`.repeat(100 + (i % 300)));
  }
  const lines = ['ARG BASE', 'FROM ${BASE}', 'WORKDIR /app', 'COPY . /app', 'RUN ls -R /app | wc -l > /count'];
  for (let i = 0; i < 25; i++) lines.push(i % 2 ? `ENV V${i}=${i}` : `LABEL l${i}=${i}`);
  writeFileSync(join(ctx, 'Dockerfile'), `${lines.join('\n')}\n`);
  const args = ['build', '--progress=quiet', '--build-arg', `BASE=${reg.ref}`, ctx];
  settle(); // files written in the last 2 s are always re-read (racy): measure a tree at rest
  timeCommand(kilnBin, args, 1, { KILN_ROOT: stateDir }); // cold build fills the cache
  const ms = median(timeCommand(kilnBin, args, N, { KILN_ROOT: stateDir }));
  const floor = hashTreeMs(ctx);
  console.log(row(`cached rebuild: 30 instr, ${files.toLocaleString('en')} files`, ms, `sha256 ${(floor.bytes / 2 ** 20).toFixed(1)} MiB`, floor.ms));
  return { ctx, ms };
}

/** Four independent `RUN sleep 2` stages against the longest stage alone, and the runtime's own floor. */
function parallelBench(): void {
  // The longest stage is measured, not assumed: the same build with that one stage alone.
  const parallelBuild = (n: number) => {
    const dir = join(work, `parallel${n}`);
    mkdirSync(dir);
    const ids = [...Array(n).keys()];
    const stages = ids.map((i) => `FROM ${reg.ref} AS s${i}\nRUN sleep 2 && echo ${i} > /${i}`);
    writeFileSync(join(dir, 'Dockerfile'), `${stages.join('\n')}\nFROM scratch\n${ids.map((i) => `COPY --from=s${i} /${i} /${i}`).join('\n')}\n`);
    return median(timeCommand(kilnBin, ['build', '--progress=quiet', '--no-cache', dir], Math.min(N, 5), env));
  };
  const oneMs = parallelBuild(1);
  const parMs = parallelBuild(4);
  console.log(row('parallel: 4 stages x RUN sleep 2', parMs, 'the longest stage alone', oneMs));
  const runcMs = runtimeStartFloor(work);
  if (runcMs) console.log(`${'  runtime floor: 4 x runc run at once'.padEnd(38)} ${(runcMs.four / 1000).toFixed(2).padStart(8)} s   one alone ${(runcMs.one / 1000).toFixed(2)} s`);
}

/**
 * Export of one big layer (BENCH_EXPORT_MIB, default 1 GiB; half random, half text, so it
 * compresses about 2:1): `-o type=oci` after a build that made the layer, i.e. tar + gzip +
 * sha256 of the layer and the OCI tar written. Next to it, single-threaded `gzip -6` and
 * `sha256sum` of the same bytes, and kiln's peak RSS.
 */
function exportBench(): void {
  const disk = freshExt4(EXPORT_MIB * 4 + 1024, work);
  try {
    const ctx = join(disk.dir, 'export');
    mkdirSync(ctx);
    const file = join(ctx, 'big.bin');
    const fd = openSync(file, 'w');
    const text = Buffer.from('kiln export bench line of fairly ordinary text 0123456789\n'.repeat(10_000)).subarray(0, 512 << 10);
    for (let i = 0; i < EXPORT_MIB; i++) {
      writeSync(fd, randomBytes(512 << 10));
      writeSync(fd, text);
    }
    closeSync(fd);
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM scratch\nCOPY big.bin /\n');
    const st = join(disk.dir, 'state');
    timeCommand(kilnBin, ['build', '--progress=none', ctx], 1, { KILN_ROOT: st }); // the layer exists, no blob yet
    const t = spawnSync('/usr/bin/time', ['-f', '%e %M', kilnBin, 'build', '--progress=none', '-o', 'type=oci,dest=/dev/null', ctx], { env: { ...process.env, KILN_ROOT: st }, encoding: 'utf8' });
    const [secs, rssKb] = (t.stderr.trim().split('\n').pop() ?? '').split(' ').map(Number);
    const timeShell = (cmd: string) => {
      const t0 = performance.now();
      spawnSync('sh', ['-c', cmd]);
      return performance.now() - t0;
    };
    const gzipMs = timeShell(`gzip -6 -c ${file} > /dev/null`);
    const shaMs = timeShell(`sha256sum ${file} > /dev/null`);
    const has = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
    console.log(row(`export: ${EXPORT_MIB} MiB layer, -o type=oci`, (secs ?? 0) * 1000, 'gzip -6, one thread', gzipMs));
    if (has('pigz')) console.log(row('  the same, against every core', (secs ?? 0) * 1000, `pigz -6 -p ${availableParallelism()}`, timeShell(`pigz -6 -p ${availableParallelism()} -c ${file} > /dev/null`)));
    if (has('zstd')) console.log(`${'  zstd -3 -T0 of the same bytes'.padEnd(38)} ${(timeShell(`zstd -3 -T0 -c ${file} > /dev/null`) / 1000).toFixed(2).padStart(8)} s`);
    console.log(`${'  sha256 of the same bytes'.padEnd(38)} ${(shaMs / 1000).toFixed(2).padStart(8)} s   peak RSS of kiln ${((rssKb ?? 0) / 1024).toFixed(0)} MB`);
    // Cold build into kiln's image store (-t: no compression), then --push of it to the local registry.
    const timed = (args: string[], root: string) => {
      const r = spawnSync('/usr/bin/time', ['-f', '%e %M', kilnBin, ...args], { env: { ...process.env, KILN_ROOT: root }, encoding: 'utf8' });
      const [s, kb] = (r.stderr.trim().split('\n').pop() ?? '').split(' ').map(Number);
      return `${(s ?? 0).toFixed(2).padStart(8)} s   peak RSS ${((kb ?? 0) / 1024).toFixed(0)} MB`;
    };
    const storeRoot = join(disk.dir, 'state-store');
    console.log(`${'  cold build -t (image store)'.padEnd(38)} ${timed(['build', '--progress=none', '-t', 'kiln-bench/big', ctx], storeRoot)}`);
    const pushName = `${reg.registry.host}/kiln-bench/big:1`;
    spawnSync(kilnBin, ['image', 'tag', 'kiln-bench/big', pushName], { env: { ...process.env, KILN_ROOT: storeRoot } });
    console.log(`${'  kiln image push (compresses once)'.padEnd(38)} ${timed(['image', 'push', pushName], storeRoot)}`);
    console.log(`${'  kiln image push again (HEAD only)'.padEnd(38)} ${timed(['image', 'push', pushName], storeRoot)}`);
    const docker = process.env.DOCKER ?? 'docker';
    if (dockerAvailable(docker)) {
      // Cold on both sides: COPY of the file and the layer committed (BuildKit: into the engine's
      // image store; kiln: an OCI archive, compressed).
      const cold = timeCommand(kilnBin, ['build', '--progress=none', '-o', 'type=oci,dest=/dev/null', ctx], 1, { KILN_ROOT: join(disk.dir, 'state-cold') })[0]!;
      const d = timeCommand(docker, ['build', '-q', '--no-cache', '-t', 'kiln-bench/export', ctx], 1, { DOCKER_BUILDKIT: '1' })[0]!;
      console.log(`${'  cold build + export vs BuildKit'.padEnd(38)} ${(cold / 1000).toFixed(2).padStart(8)} s   docker build -t ${(d / 1000).toFixed(2)} s   kiln is ×${(d / cold).toFixed(2)} faster`);
    }
  } finally {
    disk.cleanup();
  }
}

/** Issue 5's context: many small files and a few big ones, first build and a one-file edit, on `dir` (a fresh ext4). */
function mixedContextBench(dir: string): void {
  const mixed = join(dir, 'mixed');
  for (let i = 0; i < 20_000; i++) {
    const d = join(mixed, `d${i % 100}`);
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, `f${i}.txt`), Buffer.alloc(1024 + (i % 3072), i % 251));
  }
  mkdirSync(join(mixed, 'big'));
  for (let i = 0; i < 20; i++) writeFileSync(join(mixed, 'big', `blob${i}.bin`), randomBytes(10 << 20));
  writeFileSync(join(mixed, 'Dockerfile'), `FROM ${reg.ref}\nCOPY . /app\n`);
  settle();
  const mstate = join(dir, 'mstate');
  // -t: the image goes into kiln's store, as `docker build -t` into docker's.
  const margs = ['build', '--progress=none', '-t', 'kiln-bench/mixed', mixed];
  // The first build three times, each in a state dir of its own (the last one kept for the edits).
  const firsts = [1, 2, 3].map((i) => timeCommand(kilnBin, margs, 1, { KILN_ROOT: i < 3 ? join(dir, `mstate-first${i}`) : mstate })[0]!);
  const first = median(firsts);
  const t0 = performance.now();
  spawnSync('cp', ['-a', mixed, join(dir, 'mixed-copy')]);
  const cpMs = performance.now() - t0;
  console.log(row('context: 20k small + 20x10 MiB, first', first, 'cp -a of the tree', cpMs));
  console.log(`${''.padEnd(38)} (first builds: ${firsts.map((ms) => (ms / 1000).toFixed(2)).join(', ')} s)`);
  const edits: number[] = [];
  for (let i = 0; i < Math.min(N, 5); i++) {
    writeFileSync(join(mixed, 'd7', 'f7.txt'), `edit ${i}\n`);
    edits.push(timeCommand(kilnBin, margs, 1, { KILN_ROOT: mstate })[0]!);
  }
  const edit = median(edits);
  console.log(`${'  rebuild after editing one file'.padEnd(38)} ${(edit / 1000).toFixed(2).padStart(8)} s   ×${(edit / first).toFixed(2)} of the first build`);
  const same = median(timeCommand(kilnBin, margs, Math.min(N, 5), { KILN_ROOT: mstate }));
  console.log(`${'  rebuild, nothing changed'.padEnd(38)} ${(same / 1000).toFixed(2).padStart(8)} s`);
  // The tar and local exporters of the (cached) image, interleaved with tar and cp -a of the same tree.
  const runs: Record<string, number[]> = { tarOut: [], tarCf: [], localOut: [], cpA: [] };
  for (let i = 0; i < Math.min(N, 3); i++) {
    const t = (k: string, f: () => void) => {
      const t0 = performance.now();
      f();
      runs[k]!.push(performance.now() - t0);
    };
    // Each command starts on a quiet disk: the last one's output removed and written back first.
    const quiet = () => spawnSync('sh', ['-c', `rm -rf ${['out.tar', 'out2.tar', 'lout', 'cpout'].map((f) => join(dir, f)).join(' ')}; sync`]);
    quiet();
    t('tarOut', () => timeCommand(kilnBin, ['build', '--progress=none', '-o', `type=tar,dest=${join(dir, 'out.tar')}`, mixed], 1, { KILN_ROOT: mstate }));
    quiet();
    t('tarCf', () => spawnSync('sh', ['-c', `tar -cf - -C ${mixed} . > ${join(dir, 'out2.tar')}`]));
    quiet();
    t('localOut', () => timeCommand(kilnBin, ['build', '--progress=none', '-o', `type=local,dest=${join(dir, 'lout')}`, mixed], 1, { KILN_ROOT: mstate }));
    quiet();
    t('cpA', () => spawnSync('cp', ['-a', mixed, join(dir, 'cpout')]));
    quiet();
  }
  console.log(row('  -o type=tar of the image', median(runs.tarOut!), 'tar -cf of the tree', median(runs.tarCf!)));
  console.log(row('  -o type=local of the image', median(runs.localOut!), 'cp -a of the tree', median(runs.cpA!)));
  const docker = process.env.DOCKER ?? 'docker';
  if (!dockerAvailable(docker)) {
    console.log('  (no Docker engine answered: BuildKit comparison skipped)');
    return;
  }
  // BuildKit on the same tree and base (the busybox image loaded into the engine): a build
  // without its cache, then the same one-file edits.
  const host = process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
  spawnSync('skopeo', ['copy', '--dest-tls-verify=false', '--src-tls-verify=false', `docker://${reg.ref}`, 'docker-daemon:kiln-bench/busybox:latest', '--dest-daemon-host', host], { stdio: 'ignore' });
  writeFileSync(join(mixed, 'Dockerfile'), 'FROM kiln-bench/busybox:latest\nCOPY . /app\n');
  const denv = { DOCKER_BUILDKIT: '1' };
  const dFirst = timeCommand(docker, ['build', '-q', '--no-cache', '-t', 'kiln-bench/mixed', mixed], 1, denv)[0]!;
  const dEdits: number[] = [];
  for (let i = 0; i < Math.min(N, 5); i++) {
    writeFileSync(join(mixed, 'd7', 'f7.txt'), `docker edit ${i}\n`);
    dEdits.push(timeCommand(docker, ['build', '-q', '-t', 'kiln-bench/mixed', mixed], 1, denv)[0]!);
  }
  const dEdit = median(dEdits);
  console.log(`${'  vs BuildKit (docker build), first'.padEnd(38)} ${(dFirst / 1000).toFixed(2).padStart(8)} s   kiln is ×${(dFirst / first).toFixed(1)} faster`);
  console.log(`${'  vs BuildKit, one-file edit'.padEnd(38)} ${(dEdit / 1000).toFixed(2).padStart(8)} s   kiln is ×${(dEdit / edit).toFixed(1)} faster`);
}

/** Issue 9: what printing progress costs, a build with 10,000 lines of output, each mode against none (runs interleaved). */
function progressBench(): void {
  const dir = join(work, 'logs');
  mkdirSync(dir);
  writeFileSync(join(dir, 'Dockerfile'), `FROM ${reg.ref}\nRUN seq 1 10000\n`);
  const stateDir = join(work, 'logs-state');
  const build = (mode: string) => ['build', '--no-cache', `--progress=${mode}`, dir];
  const env = { KILN_ROOT: stateDir, TERM: 'xterm' };
  timeCommand(kilnBin, build('none'), 1, env); // the base pulled once
  const underScript = (mode: string) => ['-qfec', `${kilnBin} ${build(mode).join(' ')}`, '/dev/null'];
  const runs: Record<string, number[]> = { none: [], plain: [], rawjson: [], 'script none': [], 'script tty': [] };
  for (let i = 0; i < N; i++) {
    runs.none!.push(...timeCommand(kilnBin, build('none'), 1, env));
    runs.plain!.push(...timeCommand(kilnBin, build('plain'), 1, env));
    runs.rawjson!.push(...timeCommand(kilnBin, build('rawjson'), 1, env));
    runs['script none']!.push(...timeCommand('script', underScript('none'), 1, env));
    runs['script tty']!.push(...timeCommand('script', underScript('tty'), 1, env));
  }
  const m = (k: string) => median(runs[k]!);
  const pct = (a: number, b: number) => `${a >= b ? '+' : ''}${(((a - b) / b) * 100).toFixed(1)}%`;
  console.log(row('progress: 10,000 lines, plain', m('plain'), '--progress=none', m('none')) + `   ${pct(m('plain'), m('none'))}`);
  console.log(row('progress: 10,000 lines, rawjson', m('rawjson'), '--progress=none', m('none')) + `   ${pct(m('rawjson'), m('none'))}`);
  console.log(row('progress: 10,000 lines, tty (script)', m('script tty'), 'none under script', m('script none')) + `   ${pct(m('script tty'), m('script none'))}`);
  // The printers alone, fed the same 10,000 lines as a RUN step delivers them (4 KiB chunks), writing to
  // /dev/null: their CPU time against the build's, a figure this noisy machine can resolve.
  const devnull = openSync('/dev/null', 'w');
  const write = (s: string) => void writeSync(devnull, s);
  const text = Array.from({ length: 10_000 }, (_, i) => `${i + 1}\n`).join('');
  const chunks: string[] = [];
  for (let i = 0; i < text.length; i += 4096) chunks.push(text.slice(i, i + 4096));
  const feed = (sink: ProgressSink) => {
    const t0 = performance.now();
    sink.emit({ type: 'vertex', digest: 'd', name: '[2/2] RUN seq 1 10000', status: 'started', time: Date.now() });
    for (const c of chunks) sink.emit({ type: 'log', digest: 'd', stream: 'stdout', data: c, time: Date.now() });
    sink.emit({ type: 'vertex', digest: 'd', name: '[2/2] RUN seq 1 10000', status: 'completed', time: Date.now() });
    sink.close();
    return performance.now() - t0;
  };
  const ttyOut = Object.assign(createWriteStream('/dev/null'), { columns: 100, isTTY: true }) as unknown as NodeJS.WriteStream;
  const cost = {
    plain: median(Array.from({ length: N }, () => feed(createPlainPrinter(write)))),
    rawjson: median(Array.from({ length: N }, () => feed(createRawJsonPrinter(write)))),
    tty: median(Array.from({ length: N }, () => feed(createTtyPrinter(ttyOut)))),
  };
  for (const [mode, ms] of Object.entries(cost)) {
    console.log(`${`  printer alone, ${mode}`.padEnd(38)} ${ms.toFixed(2).padStart(8)} ms   ${((ms / m('none')) * 100).toFixed(2)}% of the build`);
  }
  closeSync(devnull);
}

/** 10,000-instruction Dockerfiles converted (parse, lint, LLB) next to the process start alone. */
function convertBench(): void {
  const runs = Math.min(N, 5);
  const startup = median(timeCommand(kilnBin, ['version'], runs, env));
  const lines = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i)).join('\n');
  const files: [string, string][] = [
    ['10,000 ENV', `FROM scratch\n${lines(10_000, (i) => `ENV E${i}=v${i}`)}\n`],
    ['10,000 ARG', `FROM scratch\n${lines(10_000, (i) => `ARG A${i}=v${i}`)}\n`],
    ['10,000 mixed', `FROM scratch\n${lines(10_000, (i) => [`ENV E${i}=$E${i - 1}x`, `LABEL l${i}=v`, `ARG A${i}`, `EXPOSE ${i % 60000}`, `USER u${i}`][i % 5]!)}\nRUN true\n`],
    ['10,000 RUN', `FROM scratch\n${lines(10_000, (i) => `RUN echo ${i}`)}\n`],
  ];
  for (const [name, text] of files) {
    const dir = join(work, `convert-${name.replace(/\W+/g, '-')}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'Dockerfile'), text);
    const ms = median(timeCommand(kilnBin, ['debug', 'llb', dir], runs, env));
    console.log(row(`convert: ${name}`, ms, 'kiln version', startup));
  }
}
