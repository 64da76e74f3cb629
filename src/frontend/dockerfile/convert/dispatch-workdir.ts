import { KilnError } from '../../api.ts';
import type { WorkdirCommand } from '../instructions/index.ts';
import type { DispatchState } from './dispatch-state.ts';
import { envOf, locationOf, prefixCommand, processCmdEnv, uppercaseCmd, type DispatchOpt } from './dispatch-opt.ts';
import { commitToHistory } from './image.ts';

/** Linux's PATH_MAX (with its NUL): no process can have a longer working directory. */
const PATH_MAX = 4096;

/** WORKDIR: sets the working dir and, like BuildKit, creates it as a layer (except for `/`). */
export function dispatchWorkdir(d: DispatchState, c: WorkdirCommand, opt: DispatchOpt): void {
  if (!d.workdirSet && !c.path.startsWith('/')) {
    opt.lint.run('WorkdirRelativePath', c.location, `Relative workdir "${c.path}" can have unexpected results if the base image changes`);
  }
  d.workdirSet = true;
  const wd = normalizeWorkdir(d.image.config.WorkingDir ?? '', c.path);
  if (Buffer.byteLength(wd) >= PATH_MAX) {
    throw new KilnError(`WORKDIR ${c.path}: the working directory would be ${Buffer.byteLength(wd)} bytes long; Linux allows paths of at most ${PATH_MAX - 1}`, { kind: 'input' });
  }
  d.image.config.WorkingDir = wd;
  d.state = d.state.dir(wd);
  let withLayer = false;
  if (wd !== '/') {
    const user = d.image.config.User;
    const owner = user ? ownerOfUser(user) : undefined;
    const name = prefixCommand(d, uppercaseCmd(processCmdEnv(opt.lex, c.original, envOf(d))));
    // SOURCE_DATE_EPOCH: the directories get that time (BuildKit's llb.WithCreatedTime).
    const epoch = opt.buildArgValues.SOURCE_DATE_EPOCH;
    const timestamp = epoch && /^\d+$/.test(epoch) ? Number(epoch) : undefined;
    d.state = d.state.file(opt.ctx.llb.mkdir(wd, 0o755, { makeParents: true, owner, ...(timestamp !== undefined ? { timestamp } : {}) }), {
      customName: name,
      ignoreCache: d.ignoreCache,
      locations: locationOf(opt, c),
      description: { 'com.docker.dockerfile.v1.command': c.original },
    });
    withLayer = true;
  }
  commitToHistory(d.image, `WORKDIR ${wd}`, withLayer, false);
}

/** Applies the workdir a base image sets, without a layer. */
export function inheritWorkdir(d: DispatchState, path: string): void {
  const wd = normalizeWorkdir('', path);
  d.image.config.WorkingDir = wd;
  d.state = d.state.dir(wd);
}

function normalizeWorkdir(current: string, requested: string): string {
  if (requested === '') throw new Error('cannot normalize nothing');
  const base = requested.startsWith('/') ? '' : current || '/';
  const parts: string[] = [];
  for (const c of `${base}/${requested}`.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') parts.pop();
    else parts.push(c);
  }
  return `/${parts.join('/')}`;
}

function ownerOfUser(user: string) {
  const [u, g] = user.split(':', 2) as [string, string?];
  const part = (s: string) => (/^\d+$/.test(s) ? { id: Number(s) } : { name: s });
  return { user: part(u), group: g ? part(g) : undefined };
}
