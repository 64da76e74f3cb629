/**
 * Preloaded by bun test (bunfig.toml): after all test files, fails the run if any test
 * left a kiln temp dir in the temp directory, a mount under one, or a runc container.
 */
import { afterAll } from 'bun:test';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';

const isOurs = (name: string) => name.startsWith('kiln-');
const before = new Set(readdirSync(tmpdir()).filter(isOurs));

afterAll(() => {
  const leftDirs = readdirSync(tmpdir()).filter((n) => isOurs(n) && !before.has(n));
  const mounts = spawnSync('findmnt', ['-rn', '-o', 'TARGET'], { encoding: 'utf8' })
    .stdout.split('\n')
    .filter((t) => t.includes('/kiln-') || t.includes('/kiln/'));
  const problems = [
    ...leftDirs.map((d) => `temp dir left behind: ${tmpdir()}/${d}`),
    ...mounts.map((m) => `mount left behind: ${m}`),
  ];
  if (problems.length) throw new Error(`tests left things behind:\n${problems.join('\n')}`);
});
