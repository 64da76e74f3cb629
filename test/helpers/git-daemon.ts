/**
 * Git repositories for tests, served by a real `git daemon` on 127.0.0.1 (git:// URLs).
 * The daemon is stopped, and waited for, by stop().
 */
import { spawn, spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { freePort } from './registry.ts';

/** Runs git in `cwd` (with an author, so commits need no config); its trimmed stdout. */
export function git(args: string[], cwd: string): string {
  const r = spawnSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args], { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

export interface GitDaemon {
  /** The git:// URL of the repository at `base`/`repo`. */
  url(repo: string): string;
  stop(): Promise<void>;
}

/** Serves every repository under `base` (export-all) until stop(). */
export async function startGitDaemon(base: string): Promise<GitDaemon> {
  const port = await freePort();
  const child = spawn('git', ['daemon', '--reuseaddr', '--export-all', '--listen=127.0.0.1', `--port=${port}`, `--base-path=${base}`, base], { stdio: 'ignore' });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const stop = async () => {
    child.kill();
    await exited;
  };
  for (let i = 0; ; i++) {
    if (await accepts(port)) break;
    if (i === 100 || child.exitCode !== null) {
      await stop();
      throw new Error(`git daemon did not listen on 127.0.0.1:${port}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url: (repo) => `git://127.0.0.1:${port}/${repo}`, stop };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}
