/**
 * Drives the compiled binary the way users do. Every test gets its own state dir
 * (tempStateDir) and removes it afterwards; `leftovers()` lists mounts and runc
 * containers a test left behind.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { makeTempDir, removeAll } from '../../src/util/fs.ts';

export const repoRoot = resolve(import.meta.dirname, '..', '..');
/** The binary under test: dist/kiln, or KILN_TEST_BIN (e.g. an older build, to show a hostile test failing before its fix). */
export const kilnBin = process.env.KILN_TEST_BIN ?? join(repoRoot, 'dist', 'kiln');

export interface KilnRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs dist/kiln with `args`; never throws on a non-zero exit. */
export function runKiln(args: string[], opts: { root?: string; cwd?: string; env?: Record<string, string>; input?: string } = {}): Promise<KilnRun> {
  if (!existsSync(kilnBin)) throw new Error(`${kilnBin} is missing: run npm run build (npm test does)`);
  return new Promise((resolvePromise, reject) => {
    const env: Record<string, string> = { ...(process.env as Record<string, string>), NO_COLOR: '1', ...opts.env };
    if (opts.root) env.KILN_ROOT = opts.root;
    const child = spawn(kilnBin, args, { cwd: opts.cwd ?? repoRoot, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code, signal) => resolvePromise({ code: code ?? (signal ? 128 : 1), stdout, stderr }));
    child.stdin.on('error', () => {}); // kiln may stop reading early (an input past its limit): EPIPE is its answer
    child.stdin.end(opts.input ?? '');
  });
}

/** A fresh state dir and a cleanup that unmounts anything left under it and removes it. */
export async function tempStateDir(): Promise<{ root: string; cleanup(): Promise<void> }> {
  const root = await makeTempDir('kiln-state-');
  return {
    root,
    async cleanup() {
      for (const m of mountsUnder(root).reverse()) spawnSync('umount', ['-l', m]);
      await removeAll(root);
    },
  };
}

/** Mount points at or below `dir`. */
export function mountsUnder(dir: string): string[] {
  const r = spawnSync('findmnt', ['-rn', '-o', 'TARGET'], { encoding: 'utf8' });
  return r.stdout
    .split('\n')
    .map((l) => l.replace(/\\x20/g, ' '))
    .filter((t) => t === dir || t.startsWith(`${dir}/`));
}

/** runc containers under kiln's runtime state in `root`. */
export function runcContainers(root: string): string[] {
  const r = spawnSync('runc', ['--root', join(root, 'run', 'executor'), 'list', '-q'], { encoding: 'utf8' });
  return r.stdout.split('\n').filter(Boolean);
}

/** A directory with the given files (path → content), for build contexts. */
export async function makeContext(files: Record<string, string>): Promise<{ dir: string; cleanup(): Promise<void> }> {
  const dir = await makeTempDir('kiln-ctx-');
  const { mkdir, writeFile } = await import('node:fs/promises');
  for (const [p, content] of Object.entries(files)) {
    const full = join(dir, p);
    await mkdir(join(full, '..'), { recursive: true });
    await writeFile(full, content);
  }
  return { dir, cleanup: () => removeAll(dir) };
}
