import { chmod, chown, cp, lstat, mkdir, mkdtemp, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { listenAgent, type SshSource } from '../../executor/ssh/agent-socket.ts';
import { createHash } from 'node:crypto';
import type { ExecMount as LlbMount } from '../../llb/types.ts';
import type { ExecMount } from '../../executor/index.ts';
import type { Store } from '../../store/index.ts';
import { KilnError } from '../../util/errors.ts';
import { removeAll } from '../../util/fs.ts';
import { resolveInRoot } from '../../util/root-path.ts';
import { mountOverlay, unmountPath } from '../../snapshot/overlay.ts';
import type { Ref } from '../types.ts';
import { snapshotLowerDirs } from './lower-dirs.ts';

/** Secret values by id, held in memory only (never in a key, a layer or a log). */
export type SecretSource = (id: string) => Uint8Array | undefined;
/** SSH agents by id (`--ssh`); the empty id is "default". */
export type SshLookup = (id: string) => SshSource | undefined;

export interface PreparedMounts {
  mounts: ExecMount[];
  /** Extra process environment (secrets as env vars). */
  env: string[];
  /** Unmounts, unlocks and removes everything prepare made. Never throws. */
  release(): Promise<void>;
}

const inProcessLocks = new Map<string, Promise<void>>();

/** Waits for the in-process and cross-process lock of a cache mount id. */
async function lockCache(store: Store, id: string): Promise<() => void> {
  while (inProcessLocks.has(id)) await inProcessLocks.get(id);
  let unlock!: () => void;
  inProcessLocks.set(id, new Promise<void>((r) => (unlock = r)));
  const key = `cache-mount:${id}`;
  while (!store.leases.tryAcquire(key)) await new Promise((r) => setTimeout(r, 100));
  return () => {
    store.leases.release(key);
    inProcessLocks.delete(id);
    unlock();
  };
}

/** The cache mount's lock if it is free right now, else undefined. */
function tryLockCache(store: Store, id: string): (() => void) | undefined {
  if (inProcessLocks.has(id)) return undefined;
  const key = `cache-mount:${id}`;
  if (!store.leases.tryAcquire(key)) return undefined;
  let unlock!: () => void;
  inProcessLocks.set(id, new Promise<void>((r) => (unlock = r)));
  return () => {
    store.leases.release(key);
    inProcessLocks.delete(id);
    unlock();
  };
}

/**
 * Prepares the non-root mounts of a RUN step: read-only and discard-on-exit binds of other
 * states, persistent cache dirs (shared / locked / private), tmpfs, secret files (on tmpfs,
 * under /dev/shm) and secret env vars.
 */
export async function prepareMounts(
  store: Store,
  mounts: LlbMount[],
  inputs: Ref[],
  runDir: string,
  secrets: SecretSource,
  secretEnv: { id: string; name: string; optional: boolean }[],
  ssh: SshLookup = () => undefined,
): Promise<PreparedMounts> {
  const out: ExecMount[] = [];
  const cleanups: (() => Promise<void> | void)[] = [];
  const release = async () => {
    for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => {});
  };
  const secretOf = (id: string, optional: boolean) => {
    const v = secrets(id);
    if (!v && !optional) throw new KilnError(`secret ${id}: not found`, { kind: 'build', hint: `pass it with --secret id=${id},src=FILE (or env=VAR)` });
    return v;
  };
  try {
    let n = 0;
    for (const m of mounts) {
      if (m.dest === '/') continue;
      const here = join(runDir, `m${n++}`);
      if (m.type === 'tmpfs') {
        out.push({ destination: m.dest, type: 'tmpfs', options: m.tmpfs?.size ? [`size=${m.tmpfs.size}`] : [] });
      } else if (m.type === 'secret') {
        const s = m.secret!;
        const value = secretOf(s.id, s.optional);
        if (!value) continue;
        const dir = await mkdtemp(`/dev/shm/kiln-secret-${process.pid}-`); // pid: a crash's leftover is found (store/recover.ts)
        cleanups.push(() => removeAll(dir));
        const file = join(dir, 'secret');
        await writeFile(file, value, { mode: 0o600 });
        await chown(file, s.uid, s.gid);
        await chmod(file, s.mode);
        out.push({ destination: m.dest, type: 'bind', source: file, readonly: true });
      } else if (m.type === 'ssh') {
        const o = m.ssh!;
        const id = o.id || 'default';
        const source = ssh(id);
        if (!source) {
          if (o.optional) continue;
          throw new KilnError(`no SSH key "${id}" forwarded from the client`, { kind: 'build', hint: id === 'default' ? 'pass --ssh default (forwards $SSH_AUTH_SOCK)' : `pass --ssh ${id}=SOCKET|KEYFILE` });
        }
        // A short path (unix socket paths are limited to 108 bytes), traversable by the step's user.
        const dir = await mkdtemp(join(tmpdir(), `kiln-ssh-${process.pid}-`));
        cleanups.push(() => removeAll(dir));
        await chmod(dir, 0o711);
        const sock = join(dir, 'agent.sock');
        const agent = await listenAgent(sock, source);
        cleanups.push(() => agent.close());
        await chown(sock, o.uid, o.gid);
        await chmod(sock, o.mode);
        out.push({ destination: m.dest, type: 'bind', source: sock, readonly: false });
      } else if (m.type === 'cache') {
        const c = m.cache!;
        const dirName = createHash('sha256').update(c.id).digest('hex').slice(0, 32);
        const dir = join(store.layout.cacheMounts, dirName);
        store.cacheMounts.touch(dirName, c.id);
        let unlock: (() => void) | undefined;
        if (c.sharing === 'locked') unlock = await lockCache(store, c.id);
        else if (c.sharing === 'private') unlock = tryLockCache(store, c.id);
        if (unlock) cleanups.push(unlock);
        if (c.sharing === 'private' && !unlock) {
          // In use elsewhere: this step gets its own copy, dropped afterwards.
          const copy = join(here, 'private');
          await mkdir(copy, { recursive: true });
          await cp(join(dir, 'data'), copy, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true }).catch(() => {});
          out.push({ destination: m.dest, type: 'bind', source: copy, readonly: m.readonly });
          continue;
        }
        const fresh = !(await readdir(dir).catch(() => undefined));
        if (fresh) {
          await mkdir(join(dir, 'data'), { recursive: true });
          // First use: the initial contents come from the mount's source (from= / mode / uid / gid).
          const src = m.input >= 0 ? inputs[m.input] : undefined;
          if (src) {
            await withView(store, src, join(runDir, `v${n}`), async (view) => {
              const root = await mountSource(view, m.selector, m.dest);
              if (!(await stat(root)).isDirectory()) throw new KilnError(`cache mount ${m.dest}: its source ${m.selector} is not a directory`, { kind: 'build' });
              await cp(root, join(dir, 'data'), { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
              // The cache dir itself takes the source's owner and mode (mode=, uid=, gid=).
              const st = await stat(root);
              await chown(join(dir, 'data'), st.uid, st.gid);
              await chmod(join(dir, 'data'), st.mode & 0o7777);
            });
          }
        }
        out.push({ destination: m.dest, type: 'bind', source: join(dir, 'data'), readonly: m.readonly });
      } else if (m.type === 'bind') {
        const src = m.input >= 0 ? inputs[m.input] : undefined;
        const view = join(here, 'view');
        await mkdir(view, { recursive: true });
        const lowerDirs = src?.kind === 'local' ? [src.dir] : await snapshotLowerDirs(store, src);
        if (m.readonly !== false) await mountOverlay({ lowerDirs, target: view, readonly: true });
        else {
          // Writable, but the writes are discarded after the step (BuildKit's rw bind): the
          // source, even the user's context directory, is never written.
          await mkdir(join(here, 'upper'));
          await mkdir(join(here, 'work'));
          await mountOverlay({ lowerDirs, upperDir: join(here, 'upper'), workDir: join(here, 'work'), target: view, volatile: true });
        }
        cleanups.push(() => unmountPath(view));
        out.push({ destination: m.dest, type: 'bind', source: await mountSource(view, m.selector, m.dest), readonly: m.readonly !== false });
      } else {
        throw new KilnError(`RUN --mount=type=${m.type} is not supported yet`, { kind: 'input' });
      }
    }
    const env: string[] = [];
    for (const s of secretEnv) {
      const value = secretOf(s.id, s.optional);
      if (value) env.push(`${s.name}=${Buffer.from(value).toString('utf8')}`);
    }
    return { mounts: out, env, release };
  } catch (err) {
    await release();
    throw err;
  }
}

/**
 * The host path of a mount's source (`selector`, a path in the source's file system) inside
 * the mounted `view`, resolved as the source's own root would (util/root-path.ts): a symlink
 * there is followed inside the view, never out of it, and the path handed to the runtime has
 * no symlink left in it, so the runtime (which follows links on the host) cannot be redirected.
 * The view is kiln's own mount, unchanged until the step starts.
 */
async function mountSource(view: string, selector: string | undefined, dest: string): Promise<string> {
  const path = await resolveInRoot(view, selector || '/', true);
  if (!(await lstat(path).catch(() => undefined))) {
    throw new KilnError(`mount source ${selector} not found (for the mount at ${dest})`, {
      kind: 'build',
      hint: 'a symlink in a mount source resolves inside the source, as in the container that wrote it',
    });
  }
  return path;
}

async function withView(store: Store, ref: Ref, dir: string, fn: (view: string) => Promise<void>): Promise<void> {
  if (ref.kind === 'local') return fn(ref.dir);
  await mkdir(dir, { recursive: true });
  await mountOverlay({ lowerDirs: await snapshotLowerDirs(store, ref), target: dir, readonly: true });
  try {
    await fn(dir);
  } finally {
    await unmountPath(dir);
  }
}
