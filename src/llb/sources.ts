import { makeVertex, metadataOf, type ConstraintsOpt } from './vertex.ts';
import { State } from './state.ts';
import type { Platform } from './types.ts';

/** An image from a registry (or the local image store): `docker-image://REF`. */
export function image(ref: string, opts: ConstraintsOpt & { platform?: Platform; resolveMode?: 'default' | 'pull' | 'local' } = {}): State {
  const attrs: Record<string, string> = {};
  if (opts.resolveMode && opts.resolveMode !== 'default') attrs['image.resolvemode'] = opts.resolveMode;
  const v = makeVertex({ type: 'source', identifier: `docker-image://${ref}`, attrs: Object.keys(attrs).length ? attrs : undefined }, [], opts.platform, metadataOf(opts));
  return State.scratch().platform(opts.platform).withOutput({ vertex: v, index: 0 });
}

/** A named local input (the build context, a `--build-context NAME=DIR`): `local://NAME`. */
export function local(
  name: string,
  opts: ConstraintsOpt & { includePatterns?: string[]; excludePatterns?: string[]; followPaths?: string[]; sharedKeyHint?: string } = {},
): State {
  const attrs: Record<string, string> = {};
  if (opts.includePatterns?.length) attrs['local.includepattern'] = JSON.stringify(opts.includePatterns);
  if (opts.excludePatterns?.length) attrs['local.excludepatterns'] = JSON.stringify(opts.excludePatterns);
  if (opts.followPaths?.length) attrs['local.followpaths'] = JSON.stringify(opts.followPaths);
  if (opts.sharedKeyHint) attrs['local.sharedkeyhint'] = opts.sharedKeyHint;
  const v = makeVertex({ type: 'source', identifier: `local://${name}`, attrs: Object.keys(attrs).length ? attrs : undefined }, [], undefined, metadataOf(opts));
  return State.scratch().withOutput({ vertex: v, index: 0 });
}

export function scratch(): State {
  return State.scratch();
}

/**
 * Layers the file systems of `states` on top of each other, in order (BuildKit's
 * llb.Merge; COPY --link uses it). Scratch inputs are dropped; one input is returned as is.
 */
export function merge(states: State[], opts: ConstraintsOpt = {}): State {
  const inputs = states.filter((s) => s.output !== null);
  if (inputs.length === 0) return State.scratch();
  if (inputs.length === 1) return inputs[0]!;
  const v = makeVertex({ type: 'merge' }, inputs.map((s) => s.output!), inputs[0]!.getPlatform(), metadataOf(opts));
  return inputs[0]!.withOutput({ vertex: v, index: 0 });
}

/**
 * The changes from `lower` to `upper` (BuildKit's llb.Diff): what `upper` adds, changes and
 * removes. `merge([lower, diff(lower, upper)])` is `upper`; merged onto another base, the
 * same changes apply there (removals included).
 */
export function diff(lower: State, upper: State, opts: ConstraintsOpt = {}): State {
  if (upper.output === null) return State.scratch();
  const inputs = [lower.output, upper.output].filter((o) => o !== null);
  const body = { type: 'diff' as const, lower: lower.output === null ? -1 : 0, upper: lower.output === null ? 0 : 1 };
  const v = makeVertex(body, inputs, upper.getPlatform(), metadataOf(opts));
  return upper.withOutput({ vertex: v, index: 0 });
}

/** A file downloaded from a URL (`https://...`), as BuildKit's llb.HTTP. */
export function http(url: string, opts: ConstraintsOpt & { checksum?: string; filename?: string; perm?: number; uid?: number; gid?: number } = {}): State {
  const attrs: Record<string, string> = {};
  if (opts.checksum) attrs['http.checksum'] = opts.checksum;
  if (opts.filename) attrs['http.filename'] = opts.filename;
  if (opts.perm !== undefined) attrs['http.perm'] = opts.perm.toString(8);
  if (opts.uid !== undefined) attrs['http.uid'] = String(opts.uid);
  if (opts.gid !== undefined) attrs['http.gid'] = String(opts.gid);
  const v = makeVertex({ type: 'source', identifier: url, attrs: Object.keys(attrs).length ? attrs : undefined }, [], undefined, metadataOf(opts));
  return State.scratch().withOutput({ vertex: v, index: 0 });
}

/** A git repository at a ref (BuildKit's llb.Git): `remote` is the URL without the fragment. */
export function git(remote: string, ref: string, opts: ConstraintsOpt & { keepGitDir?: boolean; subdir?: string } = {}): State {
  const attrs: Record<string, string> = { 'git.fullurl': remote };
  if (opts.keepGitDir) attrs['git.keepgitdir'] = 'true';
  const fragment = ref || opts.subdir ? `#${ref}${opts.subdir ? `:${opts.subdir}` : ''}` : '';
  const id = `git://${remote.replace(/^[a-z+]+:\/\//, '').replace(/^git@([^:]+):/, '$1/')}${fragment}`;
  const v = makeVertex({ type: 'source', identifier: id, attrs }, [], undefined, metadataOf(opts));
  return State.scratch().withOutput({ vertex: v, index: 0 });
}
