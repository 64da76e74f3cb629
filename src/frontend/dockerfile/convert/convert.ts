import { KilnError } from '../../api.ts';
import { parseShmSize, parseUlimits } from './run-limits.ts';
import type { FrontendContext, FrontendResult } from '../../api.ts';
import { parse, parseDirectiveValue } from '../parser/index.ts';
import { createLinter, runStaticChecks } from '../lint/index.ts';
import { parseInstruction, parseMounts, parseStages, type Command } from '../instructions/index.ts';
import { createLexer } from './lexer.ts';
import { buildMetaArgs, defaultArgs, PROXY_ARGS } from './args.ts';
import { buildDispatchStates, reachableStages, resolveTarget } from './stages.ts';
import type { DispatchState } from './dispatch-state.ts';
import type { DispatchOpt } from './dispatch-opt.ts';
import { prefixCommand } from './dispatch-opt.ts';
import { dispatch } from './dispatch.ts';
import { inheritWorkdir } from './dispatch-workdir.ts';
import { cloneImage } from './image.ts';
import { atLine } from './located.ts';
import { DEFAULT_PATH } from '../../api.ts';
import { createPatternMatcher, readIgnoreFile } from '../../api.ts';
/** Converts a Dockerfile into LLB plus the image config of the target stage. */
export async function convertDockerfile(text: string, ctx: FrontendContext, file = 'Dockerfile'): Promise<FrontendResult> {
  if (!text.trim()) throw new KilnError('the Dockerfile cannot be empty', { kind: 'input' });
  const parsed = parse(text);
  const { stages, metaArgs } = parseStages(parsed.ast);
  const lint = createLinter(ctx.opts.buildArgs.BUILDKIT_DOCKERFILE_CHECK ?? parseDirectiveValue('check', text)?.cmdline, ctx.warn, file);
  runStaticChecks(lint, stages, parsed.warnings);
  if (stages.length === 0) throw new KilnError('dockerfile contains no stages to build', { kind: 'input' });
  const lex = createLexer(parsed.escapeToken);
  const opts = ctx.opts;
  const targetName = opts.target || stages[stages.length - 1]!.name || '';
  const globalArgs = buildMetaArgs(defaultArgs(opts.buildPlatform, opts.platforms[0]!, targetName, opts.buildArgs), lex, metaArgs, opts.buildArgs, file);
  // InvalidDefaultArgInFrom: base names must be valid with ARG defaults alone (no --build-arg).
  const defaultsOnly = buildMetaArgs(defaultArgs(opts.buildPlatform, opts.platforms[0]!, targetName, {}), lex, metaArgs, {}, file);
  for (const st of stages) {
    let name = '';
    try {
      name = lex.processWord(st.baseName, defaultsOnly);
    } catch {
      continue;
    }
    if (!/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?::\d+)?(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/.test(name.replace(/^([a-zA-Z0-9.-]+(?::\d+)?)\//, (m) => m.toLowerCase()))) {
      lint.run('InvalidDefaultArgInFrom', st.location, `Default value for ARG ${st.baseName} results in empty or invalid base image name`);
    }
  }
  const declared = new Set(metaArgs.flatMap((a) => a.args.map((kv) => kv.key)));
  const states = buildDispatchStates(stages, lex, globalArgs, ctx, file, lint, declared);
  const target = resolveTarget(states, opts.target);
  // Stages a command reads from: COPY --from and RUN --mount=from=.
  const reachable = reachableStages(states, target, file, (c) => {
    if (c.kind === 'copy' && c.from) {
      // BuildKit reads --from before any variable is known: a word that expansion would change is refused.
      let same = false;
      try {
        same = lex.processWord(c.from, new Map()) === c.from;
      } catch {}
      if (!same) {
        throw new KilnError('variable expansion is not supported for --from, define a new stage with FROM using ARG from global scope as a workaround', {
          kind: 'input',
          location: { file, startLine: c.location.startLine, endLine: c.location.endLine },
        });
      }
      return [c.from];
    }
    if (c.kind === 'copy') return [];
    if (c.kind === 'run') return atLine(file, c.location, () => parseMounts(c.mounts).flatMap((m) => (m.from ? [m.from] : [])));
    return [];
  });

  await Promise.all([...reachable].filter((s) => s.fromImage).map((s) => resolveBase(s, ctx, file)));

  const proxyEnv: Record<string, string> = {};
  for (const k of PROXY_ARGS) if (opts.buildArgs[k] !== undefined) proxyEnv[k] = opts.buildArgs[k]!;
  const ignorePatterns = await dockerIgnorePatterns(ctx, file);
  const dopt: DispatchOpt = {
    ctx,
    lex,
    file,
    states,
    buildContext: ctx.llb.local('context', {
      customName: '[internal] load build context',
      sharedKeyHint: 'context',
      excludePatterns: ignorePatterns,
    }),
    ignore: ignorePatterns.length ? createPatternMatcher(ignorePatterns) : undefined,
    globalArgs,
    lint,
    buildArgValues: opts.buildArgs,
    proxyEnv: Object.keys(proxyEnv).length ? proxyEnv : undefined,
    labs: /-labs$/.test(opts.buildArgs.BUILDKIT_SYNTAX ?? parseDirectiveValue('syntax', text)?.ref ?? ''),
  };
  dopt.extraHosts = parseExtraHosts(opts.raw['add-hosts'] ?? '');
  dopt.ulimits = parseUlimits(opts.raw.ulimit ?? '');
  dopt.shmSize = parseShmSize(opts.raw['shm-size']);
  for (const d of states) {
    if (!reachable.has(d)) continue;
    initStage(d);
    for (const c of onbuildTriggers(d, file)) {
      d.cmdIsOnBuild = true;
      dispatch(d, c, dopt);
    }
    d.cmdIsOnBuild = false;
    for (const c of d.stage.commands) dispatch(d, c, dopt);
  }
  lint.finish(file);
  const image = target.image;
  if (Object.keys(opts.labels).length) image.config.Labels = { ...(image.config.Labels ?? {}), ...opts.labels };
  const tp = opts.platforms[0]!;
  image.os = tp.os;
  image.architecture = tp.architecture;
  if (tp.variant) image.variant = tp.variant;
  return { definition: target.state.marshal({ [file]: text }), config: image };
}

/**
 * The context's .dockerignore patterns: `<Dockerfile>.dockerignore` beside the Dockerfile
 * wins over `.dockerignore` at the context root, as in BuildKit.
 */
async function dockerIgnorePatterns(ctx: FrontendContext, file: string): Promise<string[]> {
  const candidates: [string, string][] = [
    ['dockerfile', `${file}.dockerignore`],
    ['context', '.dockerignore'],
  ];
  for (const [input, path] of candidates) {
    if (!ctx.inputs.names().includes(input)) continue;
    const st = await ctx.inputs.stat(input, path);
    if (!st || st.isDirectory) continue;
    const patterns = readIgnoreFile(new TextDecoder().decode(await ctx.inputs.readFile(input, path)));
    try {
      createPatternMatcher(patterns);
    } catch (err) {
      throw new KilnError(`invalid ${path}: ${(err as Error).message}`, { kind: 'input' });
    }
    return patterns;
  }
  return [];
}

/** Resolves a stage's base image: its config becomes the stage's starting config. */
async function resolveBase(d: DispatchState, ctx: FrontendContext, file: string): Promise<void> {
  let resolved;
  try {
    resolved = await ctx.resolveImageConfig(d.stage.baseName, d.platform);
  } catch (err) {
    if (err instanceof KilnError) {
      err.location ??= { file, startLine: d.stage.location.startLine, endLine: d.stage.location.endLine };
      throw err;
    }
    throw err;
  }
  const img = cloneImage(resolved.config);
  delete img.created;
  d.image = img;
  const emptyRootfs = img.rootfs.diff_ids.length === 0 && (img.history ?? []).every((h) => h.empty_layer);
  if (emptyRootfs) {
    d.fromImage = false;
    return;
  }
  d.stage = { ...d.stage, baseName: resolved.ref };
  d.state = ctx.llb
    .image(resolved.ref, {
      platform: d.platform,
      customName: prefixCommand(d, `FROM ${resolved.ref}`),
      locations: [{ file, ranges: [{ startLine: d.stage.location.startLine, endLine: d.stage.location.endLine }] }],
      description: { 'com.docker.dockerfile.v1.command': d.stage.sourceCode },
    })
    .platform(d.platform);
}

/**
 * ONBUILD triggers that run first in a stage: the base image's, or the ONBUILD commands of
 * the base stage. They count as steps, carry the FROM line's location, and are not
 * inherited further (the stage's OnBuild list is cleared), as in BuildKit.
 */
function onbuildTriggers(d: DispatchState, file: string): Command[] {
  const exprs = d.base
    ? d.base.stage.commands.flatMap((c) => (c.kind === 'onbuild' ? [c.expression] : []))
    : [...(d.image.config.OnBuild ?? [])];
  if (exprs.length === 0) return [];
  const out: Command[] = [];
  for (const expr of exprs) {
    const root = parse(expr).ast;
    if (root.children.length !== 1) {
      throw new KilnError('onbuild trigger should be a single expression', { kind: 'input', location: { file, ...d.stage.location } });
    }
    const node = { ...root.children[0]!, startLine: d.stage.location.startLine, endLine: d.stage.location.endLine };
    out.push(parseInstruction(node));
  }
  d.cmdTotal += out.length;
  d.image.config.OnBuild = null;
  return out;
}

/** Starts a stage from its base: a stage's result, an image's config, or scratch. */
function initStage(d: DispatchState): void {
  d.dispatched = true;
  if (d.base) {
    d.state = d.base.state;
    d.platform = d.base.platform;
    d.image = cloneImage(d.base.image);
    d.image.config.OnBuild = null;
    d.buildArgs = [...d.base.buildArgs];
    d.workdirSet = d.base.workdirSet;
    return;
  }
  const env = d.image.config.Env ?? [];
  if (!env.some((e) => e.split('=', 1)[0] === 'PATH')) d.image.config.Env = [...env, `PATH=${DEFAULT_PATH}`];
  for (const e of d.image.config.Env ?? []) {
    const i = e.indexOf('=');
    d.state = d.state.addEnv(i < 0 ? e : e.slice(0, i), i < 0 ? '' : e.slice(i + 1));
  }
  if (d.image.config.WorkingDir) inheritWorkdir(d, d.image.config.WorkingDir);
  if (d.image.config.User) {
    d.state = d.state.user(d.image.config.User);
  }
}

/** The `add-hosts` option as buildx sends it: `host=ip,host2=ip2` (`host:ip` accepted too). */
function parseExtraHosts(v: string): { host: string; ip: string }[] {
  return v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const i = s.includes('=') ? s.indexOf('=') : s.indexOf(':');
      if (i <= 0) throw new KilnError(`invalid host entry "${s}": want HOST=IP (or HOST:IP)`, { kind: 'usage' });
      return { host: s.slice(0, i), ip: s.slice(i + 1) };
    });
}
