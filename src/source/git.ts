/**
 * Git sources (ADD of a repository): `git://...`, `https://host/repo.git`, `git@host:repo`
 * with `#ref[:subdir]`. The ref is resolved to a commit with the system `git` (that commit
 * is the cache key), fetched shallowly and checked out into a new snapshot; `.git` is kept
 * only with keep-git-dir.
 */
import { spawn } from 'node:child_process';
import { cp, mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { KilnError } from '../util/errors.ts';
import { makeTempDir, removeAll } from '../util/fs.ts';
import type { SourceFactory, SourceInstance, SourceRef } from './types.ts';

function git(args: string[], cwd?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (err += c));
    child.on('error', (e) =>
      reject((e as NodeJS.ErrnoException).code === 'ENOENT' ? new KilnError('git is not installed', { kind: 'runtime', hint: 'apt-get install git' }) : e),
    );
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new KilnError(`git ${args[0]} failed: ${err.trim()}`, { kind: 'build' }))));
  });
}

/** The commit `ref` names on `remote` (a full hash is taken as is). */
export async function resolveCommit(remote: string, ref: string): Promise<string> {
  if (/^[0-9a-f]{40}$/.test(ref)) return ref;
  const out = await git(['ls-remote', remote, ref || 'HEAD']);
  const lines = out.split('\n').filter(Boolean).map((l) => l.split('\t') as [string, string]);
  const exact = ['', `refs/heads/${ref}`, `refs/tags/${ref}^{}`, `refs/tags/${ref}`, ref].map((n) => lines.find(([, name]) => name === n || (!ref && name === 'HEAD')));
  const hit = exact.find(Boolean) ?? lines[0];
  if (!hit) throw new KilnError(`repository ${remote} has no ref ${JSON.stringify(ref || 'HEAD')}`, { kind: 'build' });
  return hit[0];
}

/** Fetches `sha` (named by `ref`) of `remote` shallowly and checks it out into the new repository `work`. */
export async function checkoutCommit(remote: string, ref: string, sha: string, work: string): Promise<void> {
  await git(['init', '-q', work]);
  await git(['fetch', '-q', '--depth=1', remote, ref || 'HEAD'], work).catch(() => git(['fetch', '-q', remote], work));
  await git(['-c', 'advice.detachedHead=false', 'checkout', '-q', sha], work);
}

export function createGitSource(): SourceFactory {
  return function gitSource(identifier, attrs, ctx): SourceInstance {
    const remote = attrs['git.fullurl'] ?? identifier.replace(/#.*$/, '');
    const fragment = identifier.includes('#') ? identifier.slice(identifier.indexOf('#') + 1) : '';
    const [ref = '', subdir = ''] = fragment.split(':');
    const keepGitDir = attrs['git.keepgitdir'] === 'true';
    let commit: Promise<string> | undefined;
    const commitOnce = () => (commit ??= resolveCommit(remote, ref));
    return {
      async cacheKeyParts() {
        return { remote, commit: await commitOnce(), subdir, keepGitDir };
      },
      async load(): Promise<SourceRef> {
        const sha = await commitOnce();
        const work = await makeTempDir(`${process.pid}-git-`, ctx.store.layout.run); // found by pid after a crash
        const active = await ctx.store.snapshots.prepare();
        try {
          await checkoutCommit(remote, ref, sha, work);
          if (!keepGitDir) await rm(join(work, '.git'), { recursive: true, force: true });
          const from = subdir ? join(work, subdir) : work;
          await mkdir(active.fs, { recursive: true });
          for (const name of await readdir(from)) await cp(join(from, name), join(active.fs, name), { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
          const rec = await ctx.store.snapshots.commit(active, { parent: null });
          return { kind: 'snapshot', id: rec.id };
        } catch (err) {
          await ctx.store.snapshots.discard(active);
          throw err;
        } finally {
          await removeAll(work);
        }
      },
    };
  };
}
