/**
 * Compiles dist/kiln: one self-contained executable with the worker entry points embedded.
 * The binary never reads .env or bunfig.toml from the directory it runs in.
 * Usage: bun scripts/build.ts [--outfile PATH]
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { WORKER_ENTRIES } from '../src/platform/workers.ts';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const argOut = process.argv.indexOf('--outfile');
const outfile = argOut > 0 ? resolve(process.argv[argOut + 1]!) : join(root, 'dist', 'kiln');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
const git = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' });
const commit = git.status === 0 ? git.stdout.trim() : 'unknown';

mkdirSync(dirname(outfile), { recursive: true });
const bun = process.execPath;
const args = [
  'build',
  '--compile',
  '--minify-syntax',
  '--bytecode',
  '--no-compile-autoload-dotenv',
  '--no-compile-autoload-bunfig',
  `--define`,
  `KILN_VERSION=${JSON.stringify(pkg.version)}`,
  `--define`,
  `KILN_COMMIT=${JSON.stringify(commit)}`,
  'src/cli/main.ts',
  ...WORKER_ENTRIES,
  '--outfile',
  outfile,
];
const r = spawnSync(bun, args, { cwd: root, stdio: 'inherit' });
if (r.status !== 0) process.exit(r.status ?? 1);
console.log(`built ${outfile} (${(statSync(outfile).size / 2 ** 20).toFixed(1)} MiB, ${pkg.version} ${commit})`);
