import { KilnError } from '../../api.ts';
import type { Platform } from '../../api.ts';
import type { FrontendContext } from '../../api.ts';
import type { Stage, Command } from '../instructions/index.ts';
import type { DispatchState } from './dispatch-state.ts';
import { emptyImage, parsePlatformSpec } from './image.ts';
import type { Lexer } from './lexer.ts';
import { suggest, withSuggestion } from '../instructions/suggest.ts';
import type { Linter } from '../lint/index.ts';
import { namedContext } from './named-context.ts';
import { atLine } from './located.ts';

/** Makes one DispatchState per stage, with expanded base names, platforms and step counts. */
export function buildDispatchStates(
  stages: Stage[],
  lex: Lexer,
  globalArgs: Map<string, string>,
  ctx: FrontendContext,
  file: string,
  lint: Linter,
  declared: ReadonlySet<string> = new Set(),
): DispatchState[] {
  const states: DispatchState[] = [];
  const target = ctx.opts.platforms[0]!;
  stages.forEach((st, i) => {
    const loc = { file, startLine: st.location.startLine, endLine: st.location.endLine };
    const m = atLine(file, st.location, () => lex.processWordWithMatches(st.baseName, globalArgs));
    let baseName = m.result;
    for (const name of m.unmatched) {
      if (declared.has(name)) continue;
      const near = suggest(name, [...globalArgs.keys()], true);
      lint.run('UndefinedArgInFrom', st.location, `FROM argument '${name}' is not declared${near ? ` (did you mean ${near}?)` : ''}`);
    }
    if (!baseName) throw new KilnError(`base name (${st.baseName}) should not be blank`, { kind: 'input', location: loc });
    let platform: Platform = target;
    if (st.platform) {
      const pm = atLine(file, st.location, () => lex.processWordWithMatches(st.platform!, globalArgs));
      const p = pm.result;
      if (pm.matched.size === 1 && pm.unmatched.size === 0 && pm.matched.has('TARGETPLATFORM') && p === globalArgs.get('TARGETPLATFORM')) {
        lint.run('RedundantTargetPlatform', st.location, `Setting platform to predefined ${st.platform} in FROM is redundant as this is the default behavior`);
      }
      if (pm.matched.size === 0 && pm.unmatched.size === 0) {
        const [os = '', arch = ''] = p.split('/');
        const name = st.name ?? '';
        if (!(name.includes(os) || (arch && name.includes(arch)))) {
          lint.run('FromPlatformFlagConstDisallowed', st.location, `FROM --platform flag should not use constant value "${p}"`);
        }
      }
      if (!p) throw new KilnError(`empty platform value from expression ${st.platform}`, { kind: 'input', location: loc });
      platform = atLine(file, st.location, () => parsePlatformSpec(p, target));
    }
    // A named context replaces a stage of the same name, or stands for the base name.
    const replaced = st.name ? namedContext(ctx, st.name, platform) : undefined;
    const named = replaced ?? namedContext(ctx, baseName, platform);
    if (named?.imageRef) baseName = named.imageRef;
    const base = named ? undefined : states.find((s) => s.stage.name !== undefined && s.stage.name === baseName.toLowerCase());
    const isScratch = !base && baseName === 'scratch';
    const ds: DispatchState = {
      stage: { ...st, baseName },
      index: i,
      stageName: st.name ?? `stage-${i}`,
      base,
      deps: new Set(base ? [base] : []),
      state: ctx.llb.scratch().platform(platform),
      image: emptyImage(platform),
      platform,
      buildArgs: [],
      cmdIndex: 0,
      cmdTotal: 0,
      cmdSet: false,
      cmdIsOnBuild: false,
      ignoreCache: false,
      seen: {},
      workdirSet: false,
      dispatched: false,
      fromImage: !base && !isScratch,
    };
    if (named && !named.imageRef) {
      // A directory as a base: its files become the stage's first layer.
      ds.state = ctx.llb
        .scratch()
        .platform(platform)
        .file(ctx.llb.copy(named.state, '/', '/', { dirCopyContents: true, followSymlink: false, createDestPath: true }), {
          customName: `[context ${st.name ?? baseName}] copy from client`,
        });
      ds.fromImage = false;
    }
    if (replaced) {
      // The stage's own instructions are not run: the context is the stage.
      ds.stage = { ...ds.stage, commands: [] };
      if (!replaced.imageRef) ds.dispatched = true;
    }
    ds.cmdTotal = (ds.fromImage ? 1 : 0) + ds.stage.commands.filter((c) => ['add', 'copy', 'run', 'workdir'].includes(c.kind)).length;
    states.push(ds);
  });
  // --no-cache-filter (buildctl: --opt no-cache=a,b): by stage name or index; empty = all.
  const filter = ctx.opts.raw['no-cache'];
  if (filter !== undefined) {
    const names = filter.split(',').map((n) => n.trim().toLowerCase()).filter(Boolean);
    for (const s of states) s.ignoreCache = names.length === 0 || names.includes(s.stage.name ?? '') || names.includes(String(s.index));
  }
  // Like BuildKit: a single-stage build shows steps as `[1/3]`, without a stage name.
  if (states.length === 1) states[0]!.stageName = '';
  return states;
}

/** Finds a stage by name (case-insensitive) or index, as `--target`, `COPY --from` and `FROM` do. */
export function findStage(states: DispatchState[], nameOrIndex: string): DispatchState | undefined {
  const byName = states.find((s) => s.stage.name === nameOrIndex.toLowerCase());
  if (byName) return byName;
  if (/^\d+$/.test(nameOrIndex)) return states[Number(nameOrIndex)];
  return undefined;
}

export function resolveTarget(states: DispatchState[], target: string | undefined): DispatchState {
  if (!target) return states[states.length - 1]!;
  const t = states.find((s) => s.stage.name === target.toLowerCase());
  if (!t) {
    const names = states.flatMap((s) => (s.stage.name ? [s.stage.name] : []));
    throw new KilnError(withSuggestion(`target stage "${target}" could not be found`, target, names, true), { kind: 'usage' });
  }
  return t;
}

/**
 * Adds the stage dependencies of COPY --from and RUN --mount from= (to any stage, earlier
 * or not, as BuildKit does: a later one then fails at dispatch with "needs to be defined
 * before"), rejects cycles and bad stage indexes, and returns the stages reachable from
 * `target`.
 */
export function reachableStages(states: DispatchState[], target: DispatchState, file: string, fromsOf: (c: Command) => string[]): Set<DispatchState> {
  const via = new Map<DispatchState, Map<DispatchState, Command>>();
  for (const s of states) {
    const edges = new Map<DispatchState, Command>();
    via.set(s, edges);
    for (const c of s.stage.commands) {
      for (const from of fromsOf(c)) {
        if (/^\d+$/.test(from) && !states[Number(from)]) {
          throw new KilnError(`invalid stage index ${from}`, { kind: 'input', location: { file, startLine: c.location.startLine, endLine: c.location.endLine } });
        }
        const dep = findStage(states, from);
        if (!dep) continue;
        s.deps.add(dep);
        if (!edges.has(dep)) edges.set(dep, c);
      }
    }
  }
  rejectCycles(states, via, file);
  const out = new Set<DispatchState>();
  const visit = (s: DispatchState) => {
    if (out.has(s)) return;
    out.add(s);
    s.deps.forEach(visit);
  };
  visit(target);
  return out;
}

/** BuildKit's validateCircularDependency: a stage that (through others) reads from itself. */
function rejectCycles(states: DispatchState[], via: Map<DispatchState, Map<DispatchState, Command>>, file: string): void {
  const visited = new Set<DispatchState>();
  const path = new Set<DispatchState>();
  const visit = (s: DispatchState, cmds: Command[]): Command[] | undefined => {
    if (visited.has(s)) return undefined;
    visited.add(s);
    path.add(s);
    for (const [dep, c] of via.get(s) ?? []) {
      if (path.has(dep)) return [...cmds, c];
      const found = visit(dep, [...cmds, c]);
      if (found) return found;
    }
    path.delete(s);
    return undefined;
  };
  for (const s of states) {
    const cmds = visit(s, []);
    if (cmds) {
      const at = cmds[0]!.location;
      throw new KilnError(`circular dependency detected on stage: ${s.stage.name || s.stageName}`, { kind: 'input', location: { file, startLine: at.startLine, endLine: at.endLine } });
    }
  }
}
