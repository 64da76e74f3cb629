/**
 * The Dockerfile frontend's subrequests (BuildKit's frontend.targets and frontend.outline):
 * the named stages with their doc comments (`# name description` above `FROM ... AS name`),
 * and, for a target, the build args its stages declare (value, doc comment), the secrets and
 * SSH agents its RUN steps mount.
 */
import { KilnError } from '../../api.ts';
import type { FrontendContext, OutlineResult, TargetsResult } from '../../api.ts';
import { parse } from '../parser/index.ts';
import { createLinter } from '../lint/index.ts';
import { parseMounts, parseStages } from '../instructions/index.ts';
import { createLexer } from './lexer.ts';
import { buildMetaArgs, defaultArgs } from './args.ts';
import { buildDispatchStates, reachableStages, resolveTarget } from './stages.ts';
import { atLine } from './located.ts';

export function dockerfileTargets(text: string, ctx: FrontendContext, file: string): TargetsResult {
  const { stages } = parseStages(parse(text).ast);
  const last = stages[stages.length - 1];
  const def = ctx.opts.target || last?.name;
  return {
    targets: stages
      .filter((s) => s.name)
      .map((s) => ({
        name: s.origName ?? s.name!,
        ...(s.comment ? { description: s.comment } : {}),
        base: s.baseName,
        ...(s.platform ? { platform: s.platform } : {}),
        ...(s.name === def?.toLowerCase() ? { default: true } : {}),
        location: { file, startLine: s.location.startLine, endLine: s.location.endLine },
      })),
  };
}

export function dockerfileOutline(text: string, ctx: FrontendContext, file: string): OutlineResult {
  const parsed = parse(text);
  const { stages, metaArgs } = parseStages(parsed.ast);
  if (stages.length === 0) throw new KilnError('dockerfile contains no stages to build', { kind: 'input' });
  const lex = createLexer(parsed.escapeToken);
  const opts = ctx.opts;
  const lint = createLinter('skip=all', () => {}, file);
  const targetName = opts.target || stages[stages.length - 1]!.name || '';
  const globalArgs = buildMetaArgs(defaultArgs(opts.buildPlatform, opts.platforms[0]!, targetName, opts.buildArgs), lex, metaArgs, opts.buildArgs, file);
  const states = buildDispatchStates(stages, lex, globalArgs, ctx, file, lint);
  const target = resolveTarget(states, opts.target);
  const reachable = reachableStages(states, target, file, (c) => {
    if (c.kind === 'copy') return c.from ? [c.from] : [];
    if (c.kind === 'run') return atLine(file, c.location, () => parseMounts(c.mounts).flatMap((m) => (m.from ? [m.from] : [])));
    return [];
  });
  const args = new Map<string, OutlineResult['args'][number]>();
  const addArg = (kv: { key: string; value?: string; docComment?: string }) => {
    if (args.has(kv.key)) return;
    const value = opts.buildArgs[kv.key] ?? kv.value;
    args.set(kv.key, { name: kv.key, ...(value !== undefined ? { value } : {}), ...(kv.docComment ? { description: kv.docComment } : {}) });
  };
  for (const a of metaArgs) for (const kv of a.args) addArg(kv);
  const secrets = new Map<string, boolean>();
  const ssh = new Map<string, boolean>();
  for (const st of states) {
    if (!reachable.has(st)) continue;
    for (const c of st.stage.commands) {
      if (c.kind === 'arg') for (const kv of c.args) addArg(kv);
      if (c.kind !== 'run') continue;
      // every key read (values as written: an outline expands no variables)
      for (const m of parseMounts(c.mounts, (w) => w)) {
        if (m.type === 'secret') {
          const id = m.cacheId ?? m.source ?? (m.target ?? '').split('/').pop() ?? '';
          if (id) secrets.set(id, (secrets.get(id) ?? false) || m.required);
        } else if (m.type === 'ssh') {
          const id = m.cacheId || 'default';
          ssh.set(id, (ssh.get(id) ?? false) || m.required);
        }
      }
    }
  }
  const stage = target.stage;
  return {
    ...(stage.origName ? { name: stage.origName } : {}),
    ...(stage.comment ? { description: stage.comment } : {}),
    args: [...args.values()],
    secrets: [...secrets].map(([name, required]) => ({ name, required })),
    ssh: [...ssh].map(([name, required]) => ({ name, required })),
  };
}
