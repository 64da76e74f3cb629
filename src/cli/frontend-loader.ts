/**
 * Which frontend builds a request, and running it safely. The frontend comes from
 * `--frontend NAME|PATH`, else (for the Dockerfile frontend) the build file's `# syntax=`
 * (`// syntax=`, a JSON `"syntax"` key) or the BUILDKIT_SYNTAX build arg. Names: the built-in
 * `dockerfile.v0` (also every `docker/dockerfile:*` image name, run offline), names from the
 * config file's [frontend."NAME"], or a path to a .ts/.js module or a directory with a
 * package.json. A plugin is validated (valibot) before and after it runs; whatever it does
 * (throws, returns nonsense, never answers) ends in an error naming it, never a crash or a hang.
 */
import { access, constants, readFile, stat } from 'node:fs/promises';
import { processFrontend } from './frontend-process.ts';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as v from 'valibot';
import { FRONTEND_API_VERSION, type Frontend, type FrontendContext, type FrontendResult } from '../frontend/api.ts';
import { detectSyntax } from '../frontend/dockerfile/parser/directives.ts';
import { KilnError, usageError } from '../util/errors.ts';
import type { BuildRequest } from './request.ts';

export interface LoadedFrontend {
  frontend: Frontend;
  /** How users named it (for messages): `dockerfile.v0`, a config name, or the file's path. */
  label: string;
  builtIn: boolean;
}

const BUILT_IN = new Set(['dockerfile.v0', 'dockerfile']);
const DOCKER_IMAGE = /^(docker\.io\/)?docker\/dockerfile(-upstream)?(:[\w.-]+)?(@sha256:[0-9a-f]{64})?$/;
const DEFAULT_TIMEOUT_MS = 10 * 60_000;

const FrontendSchema = v.object({
  name: v.pipe(v.string(), v.minLength(1)),
  apiVersion: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(FRONTEND_API_VERSION, `needs frontend API ${'>'} ${FRONTEND_API_VERSION}; this kiln has ${FRONTEND_API_VERSION}`))),
  build: v.custom<Frontend['build']>((f) => typeof f === 'function', 'build must be a function'),
});

const DefinitionSchema = v.object({
  version: v.literal(1),
  ops: v.array(v.object({ digest: v.pipe(v.string(), v.regex(/^sha256:[0-9a-f]{64}$/, 'an op digest must be sha256:<64 hex>')), op: v.object({ inputs: v.array(v.any()), op: v.object({ type: v.picklist(['source', 'exec', 'file', 'merge', 'diff']) }) }) })),
  metadata: v.record(v.string(), v.any()),
  output: v.nullable(v.object({ digest: v.string(), index: v.number() })),
});

/** An OCI image config as a frontend returns it. */
const ConfigSchema = v.object({
  architecture: v.pipe(v.string(), v.minLength(1)),
  os: v.pipe(v.string(), v.minLength(1)),
  config: v.record(v.string(), v.any()),
  rootfs: v.object({ type: v.literal('layers'), diff_ids: v.array(v.string()) }),
});

const ResultSchema = v.object({
  definition: DefinitionSchema,
  config: ConfigSchema,
  annotations: v.optional(v.record(v.string(), v.string())),
  platforms: v.optional(
    v.pipe(
      v.array(
        v.object({
          platform: v.object({ os: v.pipe(v.string(), v.minLength(1)), architecture: v.pipe(v.string(), v.minLength(1)), variant: v.optional(v.string()) }),
          definition: DefinitionSchema,
          config: ConfigSchema,
        }),
      ),
      v.minLength(1, 'platforms needs at least one entry'),
    ),
  ),
});

function issueText(issues: readonly v.BaseIssue<unknown>[]): string {
  const i = issues[0]!;
  const path = i.path?.map((p) => String(p.key)).join('.') ?? '';
  return `${path ? `${path}: ` : ''}${i.message}`;
}

async function builtIn(): Promise<LoadedFrontend> {
  return { frontend: (await import('../frontend/dockerfile/index.ts')).default, label: 'dockerfile.v0', builtIn: true };
}

/** The module a path names: a file, or a directory's package.json main/exports, else index.ts/js. */
async function modulePath(path: string): Promise<string> {
  const st = await stat(path).catch(() => undefined);
  if (!st) throw usageError(`frontend ${path} does not exist`, 'give the path of a .ts/.js frontend module or of a directory holding one');
  if (!st.isDirectory()) return path;
  const pkg = await readFile(join(path, 'package.json'), 'utf8').then((t) => JSON.parse(t) as { main?: string; exports?: unknown }).catch(() => undefined);
  const entry = typeof pkg?.exports === 'string' ? pkg.exports : (pkg?.exports as { '.'?: string } | undefined)?.['.'] ?? pkg?.main;
  for (const candidate of [entry, 'index.ts', 'index.js', 'index.mjs'].filter((x): x is string => !!x)) {
    if (await stat(join(path, candidate)).catch(() => undefined)) return join(path, candidate);
  }
  throw usageError(`frontend ${path}: no module to load`, 'add "main" to its package.json, or an index.ts');
}

/** Imports and validates a plugin module. */
export async function loadPlugin(path: string, label = path): Promise<LoadedFrontend> {
  const file = await modulePath(path);
  // Not a JS/TS module but an executable: a frontend in any language (frontend-process.ts).
  if (!/\.(m?[jt]s|cjs)$/.test(file) && (await access(file, constants.X_OK).then(() => true, () => false))) {
    return { frontend: processFrontend(resolve(file), label), label, builtIn: false };
  }
  let mod: { default?: unknown; frontend?: unknown };
  try {
    mod = await import(pathToFileURL(resolve(file)).href);
  } catch (err) {
    throw new KilnError(`frontend ${label} could not be loaded: ${(err as Error).message}`, { kind: 'input', cause: err });
  }
  const exported = mod.default ?? mod.frontend;
  const parsed = v.safeParse(FrontendSchema, exported);
  if (!parsed.success) {
    throw new KilnError(`frontend ${label} is not a frontend: ${issueText(parsed.issues)}`, {
      kind: 'input',
      hint: 'its default export must be defineFrontend({ name, build(ctx) { ... } }) (or an object with name and build)',
    });
  }
  return { frontend: exported as Frontend, label, builtIn: false };
}

/**
 * A frontend name or path as given (`--frontend`, `# syntax=`, BUILDKIT_SYNTAX, a config name).
 * `fromFile`: the name came from the build file itself (its `# syntax=` directive). A path
 * there is code of the build's own files, which would run on this machine with kiln's
 * rights (BuildKit runs a syntax image in a container): only with --allow frontend.local.
 */
async function byName(ref: string, req: BuildRequest, baseDir: string, origin: string, fromFile?: { file: string; line: number }): Promise<LoadedFrontend> {
  if (BUILT_IN.has(ref) || DOCKER_IMAGE.test(ref)) return builtIn();
  const configured = req.frontends?.[ref];
  if (configured) return loadPlugin(configured, ref);
  if (ref.startsWith('.') || isAbsolute(ref) || /\.(m?[jt]s)$/.test(ref)) {
    if (fromFile && !req.allow.has('frontend.local')) {
      throw new KilnError(`${origin} names the frontend file ${ref}: code that comes with a build file runs on this machine only with --allow frontend.local`, {
        kind: 'usage',
        location: { file: fromFile.file, startLine: fromFile.line, endLine: fromFile.line },
        hint: 'pass --allow frontend.local if you trust this build, or --frontend PATH, or register the frontend by name in the config file ([frontend."NAME"] path = ...)',
      });
    }
    return loadPlugin(resolve(baseDir, ref), ref);
  }
  if (fromFile) {
    throw new KilnError(`unknown frontend "${ref}" (${origin})`, {
      kind: 'usage',
      location: { file: fromFile.file, startLine: fromFile.line, endLine: fromFile.line },
      hint: 'kiln runs dockerfile.v0 (and docker/dockerfile:* names) built in, and names from the config file\'s [frontend."NAME"]; it does not pull frontend images',
    });
  }
  throw usageError(`unknown frontend "${ref}" (${origin})`, 'kiln runs dockerfile.v0 (and docker/dockerfile:* names) built in, frontends from files (a path), and names from the config file\'s [frontend."NAME"]; it does not pull frontend images');
}

/** The frontend of `req` (see the module comment). */
export async function resolveFrontend(req: BuildRequest, buildFile?: string): Promise<LoadedFrontend> {
  if (!BUILT_IN.has(req.frontend)) return byName(req.frontend, req, process.cwd(), '--frontend');
  const fromArg = req.buildArgs.BUILDKIT_SYNTAX;
  const directive = fromArg ? undefined : detectSyntax(buildFile ?? '');
  const ref = fromArg ?? directive?.ref;
  if (!ref) return builtIn();
  const dir = dirname(resolve(req.locals.dockerfile ?? req.locals.context ?? '.', req.filename));
  return byName(ref, req, dir, fromArg ? 'BUILDKIT_SYNTAX' : `# syntax= in ${req.filename}`, directive ? { file: req.filename, line: Math.max(1, directive.startLine) } : undefined);
}

/**
 * Runs a frontend: its errors name it, its result is validated, and it must answer within
 * KILN_FRONTEND_TIMEOUT (seconds; default 600). The built-in frontend runs as it is.
 */
export async function runFrontendSafely(loaded: LoadedFrontend, ctx: FrontendContext): Promise<FrontendResult> {
  if (loaded.builtIn) return loaded.frontend.build(ctx);
  const timeoutMs = Number(process.env.KILN_FRONTEND_TIMEOUT ?? '') * 1000 || DEFAULT_TIMEOUT_MS;
  // The limit counts the frontend's own time: it stops while kiln solves for it (ctx.solve).
  let timer: ReturnType<typeof setTimeout> | undefined;
  let left = timeoutMs;
  let since = Date.now();
  let solving = 0;
  let expire: (err: Error) => void = () => {};
  const timeout = new Promise<never>((_, reject) => {
    expire = reject;
  });
  const arm = () => {
    since = Date.now();
    timer = setTimeout(
      () => expire(new KilnError(`frontend ${loaded.label} did not answer within ${timeoutMs / 1000} s`, { kind: 'input', hint: 'a frontend must resolve build(ctx) with its result (KILN_FRONTEND_TIMEOUT sets the limit in seconds; time kiln spends in ctx.solve does not count)' })),
      left,
    );
  };
  arm();
  /** Errors of the steps kiln solved for the frontend: shown as kiln shows a failed step. */
  const fromSolve = new WeakSet<object>();
  const guarded: FrontendContext = {
    ...ctx,
    async solve(definition) {
      const parsed = v.safeParse(DefinitionSchema, definition);
      if (!parsed.success) throw new KilnError(`frontend ${loaded.label} passed ctx.solve an invalid definition: ${issueText(parsed.issues)}`, { kind: 'input', hint: 'pass state.marshal() (see src/frontend/api.ts)' });
      if (solving++ === 0) {
        clearTimeout(timer);
        left -= Date.now() - since;
      }
      try {
        return await ctx.solve(definition);
      } catch (err) {
        fromSolve.add(err as object);
        throw err;
      } finally {
        if (--solving === 0) arm();
      }
    },
  };
  let result: unknown;
  try {
    result = await Promise.race([Promise.resolve().then(() => loaded.frontend.build(guarded)), timeout]);
  } catch (err) {
    if (err instanceof KilnError && err.message.startsWith(`frontend ${loaded.label} did not answer`)) throw err;
    if (err instanceof KilnError && err.location) throw err; // a located build-file error: shown as it is
    if (err instanceof KilnError && err.message.startsWith(`frontend ${loaded.label} passed ctx.solve`)) throw err;
    if (err instanceof KilnError && fromSolve.has(err)) throw err;
    const e = err as Error;
    throw new KilnError(`frontend ${loaded.label} failed: ${e?.message ?? String(err)}`, {
      kind: 'input',
      cause: err,
      details: typeof e?.stack === 'string' ? e.stack.split('\n').slice(1, 6).map((l) => l.trim()) : undefined,
    });
  } finally {
    clearTimeout(timer);
  }
  const parsed = v.safeParse(ResultSchema, result);
  if (!parsed.success) {
    throw new KilnError(`frontend ${loaded.label} returned an invalid result: ${issueText(parsed.issues)}`, {
      kind: 'input',
      hint: 'build(ctx) must return { definition: state.marshal(), config } (see src/frontend/api.ts)',
    });
  }
  return result as FrontendResult;
}
