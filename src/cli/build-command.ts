import { fileTreeAt, MAX_READ } from './file-tree.ts';
import { nearest } from './unknown-option.ts';
import { dirname, resolve, basename } from 'node:path';
import { stat, writeFile } from 'node:fs/promises';
import { diskOf, gcPolicies, loadConfig, networkLimits, registryOptions } from './config.ts';
import { join } from 'node:path';
import { makeTempDir, removeAll } from '../util/fs.ts';
import { loadSecrets } from './secrets.ts';
import { loadSshSources } from './ssh-sources.ts';
import { ENTITLEMENTS } from '../solver/entitlements.ts';
import { resolveStateDir } from '../store/state-dir.ts';
import { usageError } from '../util/errors.ts';
import { parseSize } from '../util/units.ts';
import { hostPlatform, parsePlatform } from '../oci/platform.ts';
import type { BuildRequest, OutputSpec } from './request.ts';
import { many, parseKeyValues, parseOutput } from './parse-flags.ts';
import { parseCacheSpecs } from './cache-options.ts';
import { parseReference } from '../oci/reference.ts';
import { isGitContext, isRemoteContext, materializeContext, type MaterializedContext } from './remote-context.ts';

export interface BuildFlags {
  file?: string;
  buildArg?: unknown;
  label?: unknown;
  tag?: unknown;
  output?: unknown;
  target?: string;
  platform?: unknown;
  progress?: string;
  quiet?: boolean;
  pull?: boolean;
  network?: string;
  cache?: boolean;
  root?: string;
  runtime?: string;
  frontend?: string;
  local?: unknown;
  opt?: unknown;
  iidfile?: string;
  metadataFile?: string;
  attest?: unknown;
  provenance?: unknown;
  push?: boolean;
  load?: boolean;
  nocacheFilter?: unknown;
  secret?: unknown;
  ssh?: unknown;
  allow?: unknown;
  ulimit?: unknown;
  shmSize?: unknown;
  ociLayout?: unknown;
  addHost?: unknown;
  config?: string;
  maxParallelism?: unknown;
  buildContext?: unknown;
  cacheFrom?: unknown;
  cacheTo?: unknown;
  importCache?: unknown;
  exportCache?: unknown;
}

const PROGRESS = ['auto', 'plain', 'tty', 'rawjson', 'quiet', 'none'] as const;

/** Turns `kiln build` flags (docker/buildx and buildctl styles) into one BuildRequest. */
export async function buildRequestFromFlags(contextArg: string | undefined, f: BuildFlags, signal?: AbortSignal): Promise<BuildRequest> {
  const tempDirs: string[] = [];
  try {
    return await requestFromFlags(contextArg, f, tempDirs, signal);
  } catch (err) {
    for (const d of tempDirs) await removeAll(d);
    throw err;
  }
}

async function requestFromFlags(contextArg: string | undefined, f: BuildFlags, tempDirs: string[], signal?: AbortSignal): Promise<BuildRequest> {
  const locals: Record<string, string> = {};
  for (const l of many(f.local)) {
    const i = l.indexOf('=');
    if (i <= 0) throw usageError(`invalid --local "${l}": want NAME=DIR`);
    locals[l.slice(0, i)] = resolve(l.slice(i + 1));
  }
  const cfg = await loadConfig(f.config);
  let remote: MaterializedContext | undefined;
  if (contextArg && isRemoteContext(contextArg) && !(await stat(contextArg).catch(() => undefined))) {
    if (contextArg === '-' && f.file === '-') throw usageError('kiln build - -f -: stdin cannot be both the context and the Dockerfile');
    const network = networkLimits(cfg);
    remote = await materializeContext(contextArg, tempDirs, { limits: network, attempts: network.attempts, signal });
    locals.context = remote.dir;
    if (remote.dockerfileDir) locals.dockerfile = remote.dockerfileDir;
  } else if (contextArg) locals.context = resolve(contextArg);
  if (!locals.context) throw usageError('kiln build needs a build context', 'e.g. kiln build -t app .  (or --local context=DIR)');
  const ctxStat = await stat(locals.context).catch(() => undefined);
  if (!ctxStat?.isDirectory()) throw usageError(`build context ${locals.context} is not a directory`);
  let filename = 'Dockerfile';
  if (remote && f.file && f.file !== '-' && !remote.dockerfileDir) {
    // -f with a remote context names a file inside it, as docker build reads it.
    const p = resolve(remote.dir, f.file.replace(/^\/+/, ''));
    locals.dockerfile = dirname(p);
    filename = basename(p);
  } else if (f.file === '-') {
    // Dockerfile from stdin: kept in a temp dir for the build (removed by the caller).
    const dir = await makeTempDir('kiln-stdin-');
    tempDirs.push(dir);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of process.stdin) {
      chunks.push(c as Buffer);
      size += (c as Buffer).byteLength;
      if (size > MAX_READ) throw usageError(`the Dockerfile on stdin is longer than ${MAX_READ >> 20} MiB`);
    }
    await writeFile(join(dir, 'Dockerfile'), Buffer.concat(chunks));
    locals.dockerfile = dir;
  } else if (f.file) {
    const p = resolve(f.file);
    const st = await stat(p).catch(() => undefined);
    if (st && !st.isFile()) throw usageError(`-f ${f.file}: not a regular file`);
    locals.dockerfile = dirname(p);
    filename = basename(p);
  } else if (!locals.dockerfile) {
    locals.dockerfile = locals.context;
    // Like docker: a lowercase `dockerfile` when there is no `Dockerfile`.
    if (!(await stat(resolve(locals.context, 'Dockerfile')).catch(() => undefined)) && (await stat(resolve(locals.context, 'dockerfile')).catch(() => undefined))) {
      filename = 'dockerfile';
    }
  }
  const opts = parseKeyValues(many(f.opt), '--opt');
  const buildArgs = parseKeyValues(many(f.buildArg), '--build-arg');
  for (const [k, v] of Object.entries(opts)) {
    if (k.startsWith('build-arg:')) buildArgs[k.slice('build-arg:'.length)] = v;
    if (k.startsWith('label:')) (opts as Record<string, string>)[k] = v;
  }
  // buildx passes the client's SOURCE_DATE_EPOCH as a build arg (reproducible builds).
  if (buildArgs.SOURCE_DATE_EPOCH === undefined && process.env.SOURCE_DATE_EPOCH) buildArgs.SOURCE_DATE_EPOCH = process.env.SOURCE_DATE_EPOCH;
  if (opts.filename) filename = opts.filename;
  // buildctl --oci-layout NAME=DIR: layouts that oci-layout://NAME[:TAG|@DIGEST] contexts name.
  const layoutStores: Record<string, string> = {};
  for (const l of many(f.ociLayout)) {
    const i = l.indexOf('=');
    if (i <= 0) throw usageError(`invalid --oci-layout "${l}": want NAME=DIR`);
    layoutStores[l.slice(0, i)] = resolve(l.slice(i + 1));
  }
  const ociLayouts: BuildRequest['ociLayouts'] = [];
  for (const [k, v] of Object.entries(opts)) {
    if (k.startsWith('context:') && v.startsWith('oci-layout://')) {
      ociLayouts.push({ name: k.slice('context:'.length), ...parseOciLayoutRef(v.slice('oci-layout://'.length), layoutStores) });
      delete opts[k];
    }
  }
  // --build-context NAME=DIR|docker-image://REF|oci-layout://DIR|GIT_URL|https://URL: frontends see `context:NAME` (as buildx passes it).
  for (const bc of many(f.buildContext)) {
    const i = bc.indexOf('=');
    if (i <= 0) throw usageError(`invalid --build-context "${bc}": want NAME=DIR or NAME=docker-image://REF`);
    const name = bc.slice(0, i);
    const value = bc.slice(i + 1);
    if (value.startsWith('docker-image://') || isGitContext(value) || /^https?:\/\//.test(value)) opts[`context:${name}`] = value;
    else if (value.startsWith('oci-layout://')) ociLayouts.push({ name, ...parseOciLayoutRef(value.slice('oci-layout://'.length), layoutStores) });
    else if (/^[a-z][a-z0-9+.-]*:\/\//.test(value)) throw usageError(`--build-context ${name}: ${value.split(':')[0]}:// contexts are not supported`, 'use a directory, docker-image://, oci-layout://, a git URL or an https URL');
    else {
      locals[name] = resolve(value);
      opts[`context:${name}`] = `local:${name}`;
    }
  }
  // docker build --add-host NAME:IP → the frontend option buildx sends (add-hosts=NAME=IP,...).
  const hosts = many(f.addHost).map((h) => {
    const i = h.indexOf(':');
    if (i <= 0) throw usageError(`invalid --add-host "${h}"`, 'use NAME:IP, e.g. --add-host registry.local:10.0.0.5');
    return `${h.slice(0, i)}=${h.slice(i + 1)}`;
  });
  if (hosts.length) opts['add-hosts'] = [opts['add-hosts'], ...hosts].filter(Boolean).join(',');
  // --ulimit NAME=SOFT[:HARD] and --shm-size SIZE → the options buildx sends (ulimit=CSV, shm-size=BYTES).
  const ulimits = many(f.ulimit);
  if (ulimits.length) opts.ulimit = [opts.ulimit, ...ulimits].filter(Boolean).join(',');
  if (f.shmSize !== undefined) opts['shm-size'] = String(parseSize(String(f.shmSize)));
  const filters = many(f.nocacheFilter).flatMap((v) => v.split(','));
  if (filters.length) opts['no-cache'] = filters.join(',');
  const labels = parseKeyValues(many(f.label), '--label');
  for (const [k, v] of Object.entries(opts)) if (k.startsWith('label:')) labels[k.slice(6)] = v;
  const progress = (f.progress ?? (f.quiet ? 'quiet' : 'auto')) as BuildRequest['progress'];
  if (!PROGRESS.includes(progress)) {
    const near = nearest(String(f.progress), [...PROGRESS]);
    throw usageError(`invalid --progress "${f.progress}"${near ? ` (did you mean ${near}?)` : ''}`, `use one of: ${PROGRESS.join(', ')}`);
  }
  const network = f.network ?? 'host';
  if (network !== 'host' && network !== 'none' && network !== 'default') throw usageError(`invalid --network "${network}"`, 'use default, host or none');
  // --platform (docker), or buildctl's --opt platform=
  const platforms = [...many(f.platform), ...(opts.platform ? [opts.platform] : [])]
    .flatMap((p) => p.split(','))
    .filter(Boolean)
    .map((p) => parsePlatform(p));
  const root = resolveStateDir(f.root, process.env, cfg.root);
  const maxParallelism = f.maxParallelism !== undefined ? Number(f.maxParallelism) : (cfg['max-parallelism'] ?? 0);
  if (!Number.isInteger(maxParallelism) || maxParallelism < 0) throw usageError(`invalid --max-parallelism "${f.maxParallelism}"`, 'a whole number; 0 means no limit');
  const cacheSpecs = {
    imports: [...parseCacheSpecs(many(f.cacheFrom), 'import', '--cache-from'), ...parseCacheSpecs(many(f.importCache), 'import', '--import-cache')],
    exports: cacheExportsFromFlags(f, buildArgs),
  };
  let gc: BuildRequest['gc'];
  if (cfg.gc?.enabled !== false) gc = gcPolicies(cfg, (await diskOf(root)).total);
  return {
    root,
    maxParallelism,
    gc,
    frontend: f.frontend ?? 'dockerfile.v0',
    locals,
    filename,
    buildArgs,
    labels,
    target: f.target ?? opts.target,
    platforms: platforms.length ? platforms : [hostPlatform()],
    tags: many(f.tag),
    outputs: outputsFromFlags(f),
    cacheImports: cacheSpecs.imports,
    cacheExports: cacheSpecs.exports,
    progress,
    network: network === 'none' ? 'none' : 'host',
    noCache: f.cache === false || opts['no-cache'] === '',
    ociLayouts,
    registry: withInsecureCacheRegistries(registryOptions(cfg), cacheSpecs),
    pull: !!f.pull || opts['image-resolve-mode'] === 'pull',
    runtime: f.runtime ?? cfg.runtime,
    opts,
    iidfile: f.iidfile,
    metadataFile: f.metadataFile,
    frontends: Object.fromEntries(Object.entries(cfg.frontend ?? {}).map(([name, fe]) => [name, resolve(fe.path)])),
    provenance: provenanceFromFlags(f, opts),
    load: !!f.load,
    tempDirs,
    secrets: await loadSecrets(many(f.secret)),
    ssh: await loadSshSources(many(f.ssh)),
    allow: parseAllow(many(f.allow)),
  };
}

/**
 * `-o` specs plus buildx's shorthands: `--push` (type=registry, or push=true on an image
 * output) and `--load` (type=docker into `docker load`, see load-docker.ts).
 */
function outputsFromFlags(f: BuildFlags): OutputSpec[] {
  const outputs = many(f.output).map(parseOutput);
  if (f.push) {
    const img = outputs.filter((o) => o.type === 'image' || o.type === 'registry');
    if (img.length) for (const o of img) o.attrs.push = 'true';
    else outputs.push({ type: 'registry', attrs: {} });
  }
  if (f.load && outputs.some((o) => o.type === 'docker')) throw usageError('--load and -o type=docker cannot be combined', 'use one of them');
  return outputs;
}

/**
 * `--cache-to` / `--export-cache`, plus docker build's `--build-arg BUILDKIT_INLINE_CACHE=1`
 * (an inline export; buildctl users name `--export-cache type=inline`).
 */
function cacheExportsFromFlags(f: BuildFlags, buildArgs: Record<string, string>): BuildRequest['cacheExports'] {
  const specs = [...parseCacheSpecs(many(f.cacheTo), 'export', '--cache-to'), ...parseCacheSpecs(many(f.exportCache), 'export', '--export-cache')];
  const inlineArg = buildArgs.BUILDKIT_INLINE_CACHE;
  if (inlineArg && inlineArg !== '0' && inlineArg !== 'false' && !specs.some((s) => s.type === 'inline')) specs.push({ type: 'inline', attrs: {}, label: 'BUILDKIT_INLINE_CACHE' });
  return specs;
}

/** `registry.insecure=true` on a cache spec: its registry is spoken to over plain http, as the config file's `http = true`. */
function withInsecureCacheRegistries(reg: BuildRequest['registry'], specs: { imports: OutputSpec[]; exports: OutputSpec[] }): BuildRequest['registry'] {
  const hosts = [...specs.imports, ...specs.exports].filter((s) => s.attrs.ref && s.attrs['registry.insecure'] === 'true').map((s) => parseReference(s.attrs.ref!).domain);
  return hosts.length ? { ...reg, insecureHosts: [...reg.insecureHosts, ...hosts] } : reg;
}

/**
 * Provenance from `--attest type=provenance[,mode=..]` (BuildKit's default mode: max),
 * `--provenance true|false|mode=max` (buildx: true means min) or buildctl's
 * `--opt attest:provenance=mode=..`. SBOMs are not made by kiln.
 */
function provenanceFromFlags(f: BuildFlags, opts: Record<string, string>): BuildRequest['provenance'] {
  let out: BuildRequest['provenance'];
  const parse = (spec: string, def: 'min' | 'max') => {
    const a = Object.fromEntries(spec.split(',').filter(Boolean).map((kv) => [kv.split('=')[0]!, kv.slice(kv.indexOf('=') + 1)]));
    const mode = a.mode ?? def;
    if (mode !== 'min' && mode !== 'max') throw usageError(`invalid provenance mode "${mode}"`, 'use mode=min or mode=max');
    if (a.disabled === 'true') return undefined;
    return { mode, builderId: a['builder-id'] } as NonNullable<BuildRequest['provenance']>;
  };
  for (const spec of many(f.attest)) {
    const type = /(?:^|,)type=([^,]*)/.exec(spec)?.[1];
    if (type === 'provenance') out = parse(spec.replace(/(^|,)type=[^,]*/, ''), 'max');
    else if (type === 'sbom') throw usageError('--attest type=sbom: kiln does not make SBOMs', 'use --attest type=provenance');
    else throw usageError(`invalid --attest "${spec}"`, 'e.g. --attest type=provenance,mode=max');
  }
  if (f.provenance !== undefined) {
    const v = String(f.provenance);
    out = v === 'false' || v === '0' ? undefined : v === 'true' || v === '1' || v === '' ? { mode: 'min' } : parse(v, 'min');
  }
  if (opts['attest:provenance'] !== undefined) out = parse(opts['attest:provenance'], 'max');
  return out;
}

/** `--allow ENT[,ENT]`: the entitlements granted. */
function parseAllow(values: string[]): Set<string> {
  const out = new Set<string>();
  for (const v of values.flatMap((x) => x.split(',')).map((x) => x.trim()).filter(Boolean)) {
    if (!(ENTITLEMENTS as readonly string[]).includes(v)) throw usageError(`invalid entitlement "${v}"`, `use one of: ${ENTITLEMENTS.join(', ')}`);
    out.add(v);
  }
  return out;
}

/**
 * The build file's text, for `# syntax=`, error frames and provenance; '' when it cannot be
 * read. Read inside its directory as the frontend reads it (fileTreeAt): a Dockerfile that is
 * a symlink to a host file is that path inside the context, never the host's file.
 */
export async function readBuildFile(req: BuildRequest): Promise<string> {
  const tree = fileTreeAt(req.locals.dockerfile ?? req.locals.context!, 'the build file directory');
  return tree.readFile(req.filename).then((b) => Buffer.from(b).toString('utf8'), () => '');
}

/** `DIR[:TAG|@DIGEST]` (DIR may name a --oci-layout store) → the layout dir and the image in it. */
function parseOciLayoutRef(v: string, stores: Record<string, string>): { dir: string; ref: string } {
  const at = v.indexOf('@sha256:');
  let dir = v;
  let ref = '';
  if (at >= 0) {
    dir = v.slice(0, at);
    ref = v.slice(at + 1);
  } else {
    const colon = v.lastIndexOf(':');
    if (colon > v.lastIndexOf('/')) {
      dir = v.slice(0, colon);
      ref = v.slice(colon + 1);
    }
  }
  return { dir: stores[dir] ?? resolve(dir), ref };
}
