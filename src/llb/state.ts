import { makeVertex, metadataOf, type ConstraintsOpt, type Output } from './vertex.ts';
import { marshal } from './marshal.ts';
import { EnvList } from './env-list.ts';
import type { Definition, ExecMount, NetMode, Platform, SecurityMode, Ulimit } from './types.ts';
import type { FileChain } from './file.ts';

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

interface StateFields {
  output: Output | null;
  env: EnvList;
  dir: string;
  user: string;
  platform?: Platform;
  network?: NetMode;
  hosts?: readonly { host: string; ip: string }[];
}

/** Options of `State.run`. */
export interface RunOptions extends ConstraintsOpt {
  args: string[];
  mounts?: RunMount[];
  network?: NetMode;
  security?: SecurityMode;
  hostname?: string;
  proxyEnv?: Record<string, string>;
  secretEnv?: { id: string; name: string; optional: boolean }[];
  ulimits?: Ulimit[];
}

/** A mount of a run step. `source` is the state to mount (absent: scratch/none). */
export interface RunMount extends Omit<ExecMount, 'input' | 'output'> {
  source?: State;
  /** Whether the mount's changes become an output of the step (bind, not readonly). */
  output?: boolean;
}

/**
 * An immutable build state: a filesystem (an op output, or scratch) plus the process
 * settings later steps inherit (env, working dir, user, platform). Every method returns a
 * new State; states can be shared freely between stages and platforms.
 */
export class State {
  readonly #f: StateFields;

  constructor(fields: StateFields) {
    this.#f = Object.freeze({ ...fields });
  }

  static scratch(): State {
    return new State({ output: null, env: EnvList.EMPTY, dir: '/', user: '' });
  }

  get output(): Output | null {
    return this.#f.output;
  }

  withOutput(output: Output | null): State {
    return new State({ ...this.#f, output });
  }

  /** Sets one environment variable, replacing an earlier value (order of first definition kept). */
  addEnv(key: string, value: string): State {
    return new State({ ...this.#f, env: this.#f.env.set(key, value) });
  }

  getEnv(key: string): string | undefined {
    return this.#f.env.get(key);
  }

  /** The environment as a read-only map (for variable expansion); O(1) along a stage's line of states. */
  envMap(): ReadonlyMap<string, string> {
    return this.#f.env.view();
  }

  /** The environment as ordered `[key, value]` pairs. */
  envList(): readonly (readonly [string, string])[] {
    return this.#f.env.entries();
  }

  /** The state's EnvList itself (for states made from another one's settings). */
  static envsOf(s: State): EnvList {
    return s.#f.env;
  }

  /** Sets the working directory; relative paths are resolved against the current one. */
  dir(path: string): State {
    const dir = path.startsWith('/') ? path : joinPath(this.#f.dir, path);
    return new State({ ...this.#f, dir });
  }

  getDir(): string {
    return this.#f.dir;
  }

  user(user: string): State {
    return new State({ ...this.#f, user });
  }

  getUser(): string {
    return this.#f.user;
  }

  platform(p: Platform | undefined): State {
    return new State({ ...this.#f, platform: p });
  }

  getPlatform(): Platform | undefined {
    return this.#f.platform;
  }

  network(n: NetMode): State {
    return new State({ ...this.#f, network: n });
  }

  addExtraHost(host: string, ip: string): State {
    return new State({ ...this.#f, hosts: [...(this.#f.hosts ?? []), { host, ip }] });
  }

  /**
   * Runs a process on this state's filesystem. The root mount is this state (writable);
   * the returned state's filesystem is the root after the run.
   */
  run(opts: RunOptions): ExecState {
    const inputs: Output[] = [];
    const inputIndex = (s: State | undefined): number => {
      const o = s?.output;
      if (!o) return -1;
      const found = inputs.findIndex((i) => i.vertex === o.vertex && i.index === o.index);
      if (found >= 0) return found;
      inputs.push(o);
      return inputs.length - 1;
    };
    const mounts: ExecMount[] = [{ input: inputIndex(this), dest: '/', output: 0, type: 'bind' }];
    let outputs = 1;
    const outputOf: string[] = ['/'];
    for (const m of opts.mounts ?? []) {
      const { source, output, ...rest } = m;
      const writable = output ?? (m.type === 'bind' && !m.readonly);
      const mount: ExecMount = { ...rest, input: m.type === 'bind' || m.type === 'cache' ? inputIndex(source) : -1, output: -1 };
      if (writable && m.type === 'bind') {
        mount.output = outputs++;
        outputOf.push(m.dest);
      }
      mounts.push(mount);
    }
    // SSH sockets: /run/buildkit/ssh_agent.N when no target is given, and SSH_AUTH_SOCK naming the
    // first one unless the state sets it (BuildKit's llb.AddSSHSocket).
    const ssh = mounts.filter((m) => m.type === 'ssh');
    ssh.forEach((m, i) => (m.dest ||= `/run/buildkit/ssh_agent.${i}`));
    const env = this.#f.env.entries().map(([k, v]) => `${k}=${v}`);
    if (this.#f.env.get('PATH') === undefined) env.unshift(`PATH=${DEFAULT_PATH}`);
    if (ssh.length > 0 && this.#f.env.get('SSH_AUTH_SOCK') === undefined) env.push(`SSH_AUTH_SOCK=${ssh[0]!.dest}`);
    const meta = {
      args: opts.args,
      env,
      cwd: this.#f.dir,
      user: this.#f.user,
      hostname: opts.hostname,
      extraHosts: this.#f.hosts?.length ? [...this.#f.hosts] : undefined,
      proxyEnv: opts.proxyEnv,
      ulimits: opts.ulimits?.length ? opts.ulimits : undefined,
    };
    const vertex = makeVertex(
      {
        type: 'exec',
        meta,
        mounts,
        network: opts.network ?? this.#f.network ?? 'sandbox',
        security: opts.security ?? 'sandbox',
        secretEnv: opts.secretEnv,
      },
      inputs,
      this.#f.platform,
      metadataOf(opts),
    );
    return new ExecState(this, vertex, outputOf);
  }

  /** Applies a chain of file actions (llb/file.ts) to this state. */
  file(chain: FileChain, c?: ConstraintsOpt): State {
    // A file op has one output: the result of its last action.
    return this.withOutput({ vertex: chain.toVertex(this, metadataOf(c)), index: 0 });
  }

  marshal(sources?: Record<string, string>): Definition {
    return marshal(this.#f.output, sources);
  }
}

/** The result of `State.run`: the new root, and the outputs of writable mounts. */
export class ExecState extends State {
  readonly #vertex: ReturnType<typeof makeVertex>;
  readonly #outputs: string[];

  constructor(base: State, vertex: ReturnType<typeof makeVertex>, outputs: string[]) {
    super({
      output: { vertex, index: 0 },
      env: State.envsOf(base),
      dir: base.getDir(),
      user: base.getUser(),
      platform: base.getPlatform(),
    });
    this.#vertex = vertex;
    this.#outputs = outputs;
  }

  root(): State {
    return this;
  }

  /** The state of a writable mount after the run. */
  getMount(dest: string): State {
    const i = this.#outputs.indexOf(dest);
    if (i < 0) throw new Error(`no writable mount at ${dest}`);
    return this.withOutput({ vertex: this.#vertex, index: i });
  }
}

export function joinPath(base: string, rel: string): string {
  const parts = `${base}/${rel}`.split('/');
  const out: string[] = [];
  for (const p of parts) {
    if (p === '' || p === '.') continue;
    if (p === '..') out.pop();
    else out.push(p);
  }
  return `/${out.join('/')}`;
}
