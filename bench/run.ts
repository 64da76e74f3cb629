/**
 * npm run bench: each scenario's median next to the physical floor measured in the same
 * run (the machine is shared and noisy: compare ratios, not absolute times).
 *   startup      `kiln version`                 vs spawning /bin/true
 *   scratch      FROM scratch + LABEL build      vs spawning /bin/true
 *   cached       fully cached rebuild (COPY of a 2,000-file context + RUN)
 *                                                vs sha256 of the context's bytes
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { kilnBin } from '../test/helpers/kiln.ts';
import { withBusyboxRegistry } from '../test/helpers/busybox-image.ts';
import { makeTempDir, removeAll } from '../src/util/fs.ts';
import { hashTreeMs, median, row, timeCommand } from './lib.ts';

const N = Number(process.env.BENCH_RUNS ?? 15);
const state = await makeTempDir('kiln-bench-state-');
const work = await makeTempDir('kiln-bench-');
const env = { KILN_ROOT: state };
const reg = await withBusyboxRegistry();
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

  const ctx = join(work, 'ctx');
  for (let i = 0; i < 2000; i++) {
    const d = join(ctx, `d${i % 50}`);
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, `f${i}.txt`), `file ${i}\n`.repeat(100 + (i % 300)));
  }
  const lines = ['ARG BASE', 'FROM ${BASE}', 'WORKDIR /app', 'COPY . /app', 'RUN ls -R /app | wc -l > /count'];
  for (let i = 0; i < 25; i++) lines.push(i % 2 ? `ENV V${i}=${i}` : `LABEL l${i}=${i}`);
  writeFileSync(join(ctx, 'Dockerfile'), `${lines.join('\n')}\n`);
  const args = ['build', '--progress=quiet', '--build-arg', `BASE=${reg.ref}`, ctx];
  timeCommand(kilnBin, args, 1, env); // cold build fills the cache
  const cached = median(timeCommand(kilnBin, args, N, env));
  const floor = hashTreeMs(ctx);
  console.log(row('cached rebuild: 30 instr, 2,000 files', cached, `sha256 ${(floor.bytes / 2 ** 20).toFixed(1)} MiB`, floor.ms));
} finally {
  await reg.stop();
  await removeAll(work);
  await removeAll(state);
}
