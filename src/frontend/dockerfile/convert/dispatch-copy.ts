import { KilnError } from '../../api.ts';
import type { ChownOpt } from '../../api.ts';
import type { AddCommand, CopyCommand } from '../instructions/index.ts';
import type { State, FileChain } from '../../api.ts';
import type { DispatchState } from './dispatch-state.ts';
import { envOf, locationOf, prefixCommand, processCmdEnv, uppercaseCmd, type DispatchOpt } from './dispatch-opt.ts';
import { commitToHistory } from './image.ts';
import { findStage } from './stages.ts';
import { suggest } from '../instructions/suggest.ts';
import { parseGitUrl } from '../../api.ts';
import { namedContext } from './named-context.ts';
import { parseModeSpec } from '../../api.ts';
import { urlFileName } from './url-file-name.ts';
/** COPY and ADD: file copies from the context, a stage or an image; the result is a layer. */
export function dispatchCopy(d: DispatchState, c: CopyCommand | AddCommand, opt: DispatchOpt): void {
  const llb = opt.ctx.llb;
  const isAdd = c.kind === 'add';
  const dest = pathRelativeToWorkingDir(d.state.getDir(), c.dest);
  let source: State = opt.buildContext;
  if (c.kind === 'copy' && c.from) {
    const stage = findStage(opt.states, c.from);
    const named = namedContext(opt.ctx, c.from, d.platform);
    if (named) source = named.state;
    else if (stage) {
      if (!stage.dispatched) throw new KilnError(`cannot copy from stage "${c.from}", it needs to be defined before current stage "${d.stageName}"`, { kind: 'input' });
      source = stage.state;
    } else {
      warnNearStage(opt, c, c.from);
      source = llb.image(c.from, { platform: d.platform });
    }
  }
  const owner = parseChown(c.chown);
  const { mode, modeStr } = parseChmod(c.chmod);
  let msg = isAdd ? 'ADD' : 'COPY';
  if (c.parents) msg += ' --parents';
  if (c.chown) msg += ` --chown=${c.chown}`;
  if (c.chmod) msg += ` --chmod=${c.chmod}`;
  let chain: FileChain | undefined;
  for (const src of c.sources) {
    msg += ` ${src}`;
    const gitRef = parseGitUrl(src);
    if (gitRef) {
      if (!isAdd) throw new KilnError('source can\'t be a git ref for COPY', { kind: 'input' });
      const st = llb.git(gitRef.remote, gitRef.ref, { keepGitDir: c.kind === 'add' && c.keepGitDir === true, subdir: gitRef.subdir, customName: `[internal] load git source ${src}` });
      const opts = { mode, modeStr, owner, createDestPath: true, dirCopyContents: true };
      chain = chain ? chain.copy(st, '/', dest, opts) : llb.copy(st, '/', dest, opts);
      continue;
    }
    if (/^https?:\/\//.test(src)) {
      if (!isAdd) throw new KilnError('source can\'t be a URL for COPY', { kind: 'input' });
      // BuildKit names the download after the URL's last path element.
      const base = urlFileName(src);
      if (base === undefined) throw new KilnError(`invalid URL ${JSON.stringify(src)}`, { kind: 'input' });
      const checksum = c.kind === 'add' ? c.checksum : undefined;
      const st = llb.http(src, { filename: base, checksum, customName: `[internal] download ${src}` });
      const opts = { mode, modeStr, owner, createDestPath: true, attemptUnpack: c.kind === 'add' && c.unpack === true };
      chain = chain ? chain.copy(st, `/${base}`, dest, opts) : llb.copy(st, `/${base}`, dest, opts);
      continue;
    }
    if (c.kind === 'add' && c.checksum) throw new KilnError('checksum requires HTTP(S) or Git sources', { kind: 'input' });
    const opts = {
      mode,
      modeStr,
      owner,
      followSymlink: true,
      dirCopyContents: true,
      attemptUnpack: isAdd,
      createDestPath: true,
      allowWildcard: true,
      allowEmptyWildcard: true,
      excludePatterns: c.exclude.length ? c.exclude : undefined,
      includePatterns: undefined as string[] | undefined,
    };
    if (source === opt.buildContext) checkIgnored(opt, c, src, isAdd);
    let srcPath = cleanSource(src);
    if (c.parents) {
      // --parents: copy from the pivot (`a/./b` → from `a`, keeping `b`'s path; else from the
      // root), keeping the parent directories of what matches.
      const cut = src.indexOf('/./');
      const [pivot, pattern] = cut >= 0 ? [src.slice(0, cut), src.slice(cut + 3)] : ['/', src];
      srcPath = cleanSource(pivot);
      opts.includePatterns = [pattern.replace(/^\.?\/+/, '')];
    }
    chain = chain ? chain.copy(source, srcPath, dest, opts) : llb.copy(source, srcPath, dest, opts);
  }
  for (const doc of c.sourceContents) {
    msg += ` <<${doc.name}`;
    const data = doc.expand ? processCmdEnv(opt.lex, doc.content, envOf(d)) : doc.content;
    const st = llb.scratch().file(llb.mkfile(doc.name, 0o644, data), { customName: '[internal] preparing inline document' });
    const opts = { mode, modeStr, owner, createDestPath: true };
    chain = chain ? chain.copy(st, `/${doc.name}`, dest, opts) : llb.copy(st, `/${doc.name}`, dest, opts);
  }
  msg += ` ${c.dest}`;
  if (!chain) throw new KilnError(`${isAdd ? 'ADD' : 'COPY'} requires at least two arguments`, { kind: 'input' });
  const text = uppercaseCmd(processCmdEnv(opt.lex, c.original, envOf(d)));
  const name = prefixCommand(d, text);
  const constraints = { customName: name, ignoreCache: d.ignoreCache, locations: locationOf(opt, c), description: { 'com.docker.dockerfile.v1.command': c.original } };
  if (c.link && !c.chmod) {
    // --link: the files are copied onto an empty layer, then merged on top of the stage, so
    // the layer does not depend on (and is not invalidated by) what lies below it.
    const copied = llb.scratch().platform(d.platform).dir(d.state.getDir()).file(chain, constraints);
    d.cmdIndex--;
    const mergeName = prefixCommand(d, `LINK ${text}`);
    d.state = d.state.withOutput(llb.merge([d.state, copied], { ...constraints, customName: mergeName }).output);
  } else {
    d.state = d.state.file(chain, constraints);
  }
  commitToHistory(d.image, msg, true, true);
}

/**
 * A git source as ADD reads it (BuildKit's ParseGitRef): `git://...`, `git@host:path`,
 * `ssh://...`, or http(s) URLs ending in `.git`, each with an optional `#ref[:subdir]`.
 */

/** CopyIgnoredFile: a context path that .dockerignore leaves out (skipped when `!` patterns exist, as BuildKit). */
function checkIgnored(opt: DispatchOpt, c: CopyCommand | AddCommand, src: string, isAdd: boolean): void {
  const m = opt.ignore;
  if (!m || m.exclusions) return;
  const p = cleanSource(src).replace(/^\/+/, '') || '.';
  if (p === '.' && !m.patterns.some((x) => ['*', '**', '**/*'].includes(x))) return;
  if (p !== '.' && !m.matchesOrParentMatches(p)) return;
  opt.lint.run('CopyIgnoredFile', c.location, `Attempting to ${isAdd ? 'Add' : 'Copy'} file "${p}" that is excluded by .dockerignore`);
}

/** A source path inside its root: BuildKit normalizes it against "/". */
function cleanSource(src: string): string {
  return src.startsWith('/') ? src : `/${src}`;
}

/** dest relative to WORKDIR, keeping a trailing slash (it means "into this directory"). */
export function pathRelativeToWorkingDir(dir: string, p: string): string {
  if (p === '' || p === '.') p = './';
  const trailing = p.endsWith('/') || p.endsWith('/.');
  const joined = p.startsWith('/') ? p : `${dir}/${p}`;
  const parts: string[] = [];
  for (const c of joined.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') parts.pop();
    else parts.push(c);
  }
  const clean = `/${parts.join('/')}`;
  return trailing && clean !== '/' ? `${clean}/` : clean;
}

/** `--chown=user[:group]` as llb.WithUser reads it: numbers and `root` are ids, anything else a name. */
export function parseChown(spec: string | undefined): ChownOpt | undefined {
  if (!spec) return undefined;
  const i = spec.indexOf(':');
  const u = i < 0 ? spec : spec.slice(0, i);
  const g = i < 0 ? undefined : spec.slice(i + 1);
  const part = (s: string) => (s === 'root' ? { id: 0 } : /^\d+$/.test(s) ? { id: Number(s) } : { name: s });
  return { user: part(u), group: g ? part(g) : undefined };
}

/** `--chmod`: octal (→ mode) or symbolic like `u+x,go-w` (→ modeStr, applied per file). */
function parseChmod(spec: string | undefined): { mode?: number; modeStr?: string } {
  if (!spec) return {};
  if (/^\d+$/.test(spec)) {
    const n = /^[0-7]+$/.test(spec) ? parseInt(spec, 8) : NaN;
    if (n <= 0o7777) return { mode: n };
    throw new KilnError(`invalid chmod parameter: '${spec}'. it should be octal string and between 0 and 07777`, { kind: 'input' });
  }
  try {
    parseModeSpec(spec);
  } catch (err) {
    throw new KilnError((err as Error).message, { kind: 'input' });
  }
  return { modeStr: spec };
}

/** `COPY --from=biulder` with a stage `builder`: BuildKit pulls an image "biulder"; say what was likely meant. */
function warnNearStage(opt: DispatchOpt, c: CopyCommand, from: string): void {
  if (/[/:@.]/.test(from)) return;
  const names = opt.states.flatMap((s) => (s.stage.name ? [s.stage.name] : []));
  const near = suggest(from.toLowerCase(), names, true);
  if (!near) return;
  opt.ctx.warn({
    message: `COPY --from=${from}: there is no build stage "${from}" (did you mean ${near}?), so it is read as an image name`,
    location: { file: opt.file, startLine: c.location.startLine, endLine: c.location.endLine },
  });
}
