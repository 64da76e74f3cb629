/**
 * Git sources (ADD of a repository): `git://...`, `https://host/repo.git`, `git@host:repo`
 * with `#ref[:subdir]`. The ref is resolved to a commit with the system `git` (that commit
 * is the cache key), fetched shallowly and checked out into a new snapshot; `.git` is kept
 * only with keep-git-dir.
 */
import { spawn } from 'node:child_process';
import { cp, mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { KilnError } from '../util/errors.ts';
import { makeTempDir, removeAll } from '../util/fs.ts';
import { resolveInRoot } from '../util/root-path.ts';
import { DEFAULT_STALL_LIMITS, StallError, watchTransfer, type StallLimits } from '../util/stall.ts';
import { withRetries } from '../util/retry.ts';
import type { SourceFactory, SourceInstance, SourceRef } from './types.ts';

/** How a git command counts as stalled and how often it is tried (the config's [network]). */
export interface GitOptions {
  limits?: StallLimits;
  attempts?: number;
  signal?: AbortSignal;
}

/**
 * Runs git. Over http(s) git's own curl limits apply (GIT_HTTP_LOW_SPEED_*); for every
 * transport a watchdog kills git when it prints nothing (fetches report progress) for the
 * idle limit. A stall is retried with backoff, then a clear error naming the remote.
 */
async function git(args: string[], cwd?: string, o: GitOptions = {}, remote?: string): Promise<string> {
  try {
    return await withRetries(remote ? (o.attempts ?? 4) : 1, (err) => err instanceof StallError, () => gitOnce(args, cwd, o, remote), o.signal);
  } catch (err) {
    if (!(err instanceof StallError)) throw err;
    throw new KilnError(`git ${args[0]} of ${remote}: ${err.message}`, { kind: 'runtime', hint: 'the git server or the network stopped moving data; kiln retried ([network] in kiln.toml sets the limits)' });
  }
}

function gitOnce(args: string[], cwd: string | undefined, o: GitOptions, remote?: string): Promise<string> {
  const limits = o.limits ?? DEFAULT_STALL_LIMITS;
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, GIT_TERMINAL_PROMPT: '0' };
    if (limits.lowSpeedBytesPerSec > 0) {
      env.GIT_HTTP_LOW_SPEED_LIMIT = String(limits.lowSpeedBytesPerSec);
      env.GIT_HTTP_LOW_SPEED_TIME = String(Math.max(1, Math.round(limits.lowSpeedWindowMs / 1000)));
    }
    const child = spawn('git', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env });
    // The watchdog ends git when it stalls or the build is canceled (git over http has its own speed floor above).
    const dog = watchTransfer(remote ? hostOf(remote) : 'git', { ...limits, idleMs: remote ? limits.idleMs : 2 ** 31 - 1, lowSpeedBytesPerSec: 0 }, o.signal);
    dog.signal.addEventListener('abort', () => child.kill('SIGKILL'), { once: true });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => {
      dog.progress(c.length);
      out += c;
    });
    child.stderr.on('data', (c: Buffer) => {
      dog.progress(c.length);
      err = (err + c).slice(-8192);
    });
    child.on('error', (e) => {
      dog.stop();
      reject((e as NodeJS.ErrnoException).code === 'ENOENT' ? new KilnError('git is not installed', { kind: 'runtime', hint: 'apt-get install git' }) : e);
    });
    child.on('close', (code) => {
      dog.stop();
      const ended = dog.explain(undefined); // a stall or a canceled build
      if (ended) return reject(ended);
      if (code === 0) return resolve(out);
      const lines = err.trim().split(/\r|\n/).filter((l) => l && !/^(remote: )?(Counting|Compressing|Receiving|Resolving|Enumerating|Total)/.test(l));
      reject(new KilnError(`git ${args[0]} failed: ${lines.slice(-5).join('\n')}`, { kind: 'build' }));
    });
  });
}

function hostOf(remote: string): string {
  try {
    return new URL(remote).host;
  } catch {
    return remote.replace(/^[^@]*@/, '').replace(/:.*$/, ''); // git@host:repo
  }
}

/** The commit `ref` names on `remote` (a full hash is taken as is). */
export async function resolveCommit(remote: string, ref: string, o: GitOptions = {}): Promise<string> {
  if (/^[0-9a-f]{40}$/.test(ref)) return ref;
  const out = await git(['ls-remote', remote, ref || 'HEAD'], undefined, o, remote);
  const lines = out.split('\n').filter(Boolean).map((l) => l.split('\t') as [string, string]);
  const exact = ['', `refs/heads/${ref}`, `refs/tags/${ref}^{}`, `refs/tags/${ref}`, ref].map((n) => lines.find(([, name]) => name === n || (!ref && name === 'HEAD')));
  const hit = exact.find(Boolean) ?? lines[0];
  if (!hit) throw new KilnError(`repository ${remote} has no ref ${JSON.stringify(ref || 'HEAD')}`, { kind: 'build' });
  return hit[0];
}

/** Fetches `sha` (named by `ref`) of `remote` shallowly and checks it out into the new repository `work`. */
export async function checkoutCommit(remote: string, ref: string, sha: string, work: string, o: GitOptions = {}): Promise<void> {
  await git(['init', '-q', work]);
  await git(['fetch', '--progress', '--depth=1', remote, ref || 'HEAD'], work, o, remote).catch((err) => {
    if (err instanceof KilnError && (err.kind === 'canceled' || err.kind === 'runtime')) throw err;
    return git(['fetch', '--progress', remote], work, o, remote);
  });
  await git(['-c', 'advice.detachedHead=false', 'checkout', '-q', sha], work);
}

/**
 * The directory `subdir` of a checked-out repository, resolved inside it: a symlink in the
 * repository (`docs -> /etc`) never makes a host directory the source.
 */
export async function repoSubdir(work: string, subdir: string, what: string): Promise<string> {
  const dir = subdir ? await resolveInRoot(work, subdir) : work;
  if (!(await stat(dir).catch(() => undefined))?.isDirectory()) throw new KilnError(`${what}: ${subdir} is not a directory in the repository`, { kind: 'input' });
  return dir;
}

export function createGitSource(o: Omit<GitOptions, 'signal'> = {}): SourceFactory {
  return function gitSource(identifier, attrs, ctx): SourceInstance {
    const remote = attrs['git.fullurl'] ?? identifier.replace(/#.*$/, '');
    const fragment = identifier.includes('#') ? identifier.slice(identifier.indexOf('#') + 1) : '';
    const [ref = '', subdir = ''] = fragment.split(':');
    const keepGitDir = attrs['git.keepgitdir'] === 'true';
    let commit: Promise<string> | undefined;
    const commitOnce = () => (commit ??= resolveCommit(remote, ref, { ...o, signal: ctx.signal }));
    return {
      async cacheKeyParts() {
        return { remote, commit: await commitOnce(), subdir, keepGitDir };
      },
      async load(): Promise<SourceRef> {
        const sha = await commitOnce();
        const work = await makeTempDir(`${process.pid}-git-`, ctx.store.layout.run); // found by pid after a crash
        const active = await ctx.store.snapshots.prepare();
        try {
          await checkoutCommit(remote, ref, sha, work, { ...o, signal: ctx.signal });
          if (!keepGitDir) await rm(join(work, '.git'), { recursive: true, force: true });
          const from = await repoSubdir(work, subdir, identifier);
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
