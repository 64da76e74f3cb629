import { KilnError } from '../../api.ts';
import type { RunMount, State } from '../../api.ts';
import { expandMounts, type RunCommand } from '../instructions/index.ts';
import type { DispatchState } from './dispatch-state.ts';
import { envOf, type DispatchOpt } from './dispatch-opt.ts';
import { expanderFor } from './lexer.ts';
import { findStage } from './stages.ts';
import { namedContext } from './named-context.ts';

export interface RunMounts {
  mounts: RunMount[];
  secretEnv: { id: string; name: string; optional: boolean }[];
}

const clean = (p: string) => {
  const out: string[] = [];
  for (const c of p.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') out.pop();
    else out.push(c);
  }
  return `/${out.join('/')}`;
};
const basename = (p: string) => clean(p).split('/').pop() || '';

/** RUN --mount=...: bind, cache, tmpfs and secret mounts, as BuildKit's dispatchRunMounts builds them. */
export function dispatchRunMounts(d: DispatchState, c: RunCommand, opt: DispatchOpt): RunMounts {
  const llb = opt.ctx.llb;
  const out: RunMounts = { mounts: [], secretEnv: [] };
  for (const m of expandMounts(c, expanderFor(opt.lex, envOf(d)))) {
    if (m.type === 'ssh') {
      // BuildKit's dispatchSSH: id defaults to "default" (resolved by the solver), the target to
      // /run/buildkit/ssh_agent.N (llb), mode 0600, owner root.
      if (m.source !== undefined) throw new KilnError('ssh does not support source', { kind: 'input' });
      out.mounts.push({
        type: 'ssh',
        dest: m.target ?? '',
        ssh: { id: m.cacheId ?? '', uid: m.uid ?? 0, gid: m.gid ?? 0, mode: m.mode ?? 0o600, optional: !m.required },
      });
      continue;
    }
    if (m.type === 'secret') {
      let id = m.source ?? m.cacheId;
      if (!id) {
        if (!m.target) throw new KilnError('one of source, target required', { kind: 'input' });
        id = basename(m.target);
      }
      const optional = !m.required;
      if (m.env !== undefined) out.secretEnv.push({ id, name: m.env || id.toUpperCase(), optional });
      if (m.env === undefined || m.target) {
        const dest = m.target ?? `/run/secrets/${basename(id)}`;
        out.mounts.push({
          type: 'secret',
          dest,
          secret: { id, uid: m.uid ?? 0, gid: m.gid ?? 0, mode: m.mode ?? 0o400, optional },
        });
      }
      continue;
    }
    let source: State = opt.buildContext;
    const from = m.from ?? (m.type === 'cache' ? 'scratch' : undefined);
    if (from !== undefined) {
      const stage = findStage(opt.states, from);
      const named = namedContext(opt.ctx, from, d.platform);
      if (named) source = named.state;
      else if (stage) {
        if (!stage.dispatched) throw new KilnError(`cannot mount from stage "${from}" to "${m.target}", stage needs to be defined before current command`, { kind: 'input' });
        source = stage.state;
      } else if (from === 'scratch') source = llb.scratch();
      else source = llb.image(from, { platform: d.platform });
    }
    const target = m.target?.startsWith('/') ? clean(m.target) : clean(`${d.state.getDir()}/${m.target ?? ''}`);
    if (target === '/') throw new KilnError(`invalid mount target "${m.target}"`, { kind: 'input' });
    if (m.type === 'tmpfs') {
      out.mounts.push({ type: 'tmpfs', dest: target, tmpfs: m.sizeLimit ? { size: m.sizeLimit } : {} });
      continue;
    }
    let selector = m.source ? clean(m.source) : '/';
    if (selector === '/' && m.type === 'cache' && (m.uid !== undefined || m.gid !== undefined || m.mode !== undefined)) {
      source = source.file(llb.mkdir('/cache', m.mode ?? 0o755, { owner: { user: { id: m.uid ?? 0 }, group: { id: m.gid ?? 0 } } }), {
        customName: '[internal] setting cache mount permissions',
      });
      selector = '/cache';
    }
    const mount: RunMount = { type: m.type, dest: target, source, readonly: m.readOnly, output: false };
    if (selector !== '/') mount.selector = selector;
    if (m.type === 'cache') mount.cache = { id: m.cacheId ?? clean(m.target ?? ''), sharing: m.cacheSharing ?? 'shared' };
    out.mounts.push(mount);
  }
  return out;
}
