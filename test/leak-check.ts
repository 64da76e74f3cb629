/**
 * Preloaded by bun test (bunfig.toml). Gives this test process a temp directory of its own
 * (TMPDIR, inherited by every kiln it starts), and after all test files fails the run if
 * anything is left in it: a temp dir, or a mount under it. A test run of its own: two runs at
 * once on one machine (a loaded CI host, a developer's second terminal) no longer see each
 * other's temp dirs as leaks, which made a test file fail under load once.
 */
import { afterAll } from 'bun:test';
import { mkdtempSync, readdirSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const own = mkdtempSync(join(tmpdir(), `kiln-tests-${process.pid}-`));
process.env.TMPDIR = own;

afterAll(() => {
  const leftDirs = readdirSync(own);
  const mounts = spawnSync('findmnt', ['-rn', '-o', 'TARGET'], { encoding: 'utf8' })
    .stdout.split('\n')
    .map((l) => l.replace(/\\x20/g, ' '))
    .filter((t) => t.startsWith(`${own}/`));
  const problems = [...leftDirs.map((d) => `temp dir left behind: ${own}/${d}`), ...mounts.map((m) => `mount left behind: ${m}`)];
  if (problems.length) throw new Error(`tests left things behind:\n${problems.join('\n')}`);
  rmdirSync(own);
});
