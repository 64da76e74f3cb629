import type { FrontendContext } from '../../api.ts';
import type { State } from '../../../llb/index.ts';
import type { Platform } from '../../../llb/types.ts';

/**
 * Named contexts (`--build-context NAME=DIR|docker-image://REF`, buildctl `--opt context:NAME=...`):
 * a FROM, COPY --from or RUN --mount from= naming one reads it instead of a stage or an image.
 * Returns undefined when `name` is not a named context of this build.
 */
export function namedContext(ctx: FrontendContext, name: string, platform: Platform): { state: State; imageRef?: string } | undefined {
  const v = ctx.opts.raw[`context:${name}`] ?? ctx.opts.raw[`context:${name.toLowerCase()}`];
  if (v === undefined) return undefined;
  if (v.startsWith('docker-image://')) {
    const ref = v.slice('docker-image://'.length);
    return { state: ctx.llb.image(ref, { platform }), imageRef: ref };
  }
  const git = gitContext(v);
  if (git) return { state: ctx.llb.git(git.remote, git.ref, { subdir: git.subdir, customName: `[context ${name}] ${v}` }) };
  if (/^https?:\/\//.test(v)) {
    // A single file, named after the URL's last path element (BuildKit's http source).
    const base = new URL(v).pathname.split('/').pop() || '__unnamed__';
    return { state: ctx.llb.http(v, { filename: base, customName: `[context ${name}] ${v}` }) };
  }
  const local = v.startsWith('local:') ? v.slice('local:'.length) : name;
  return { state: ctx.llb.local(local, { customName: `[context ${name}] load from client` }) };
}

/** A git URL as BuildKit detects one (`git://`, `git@host:`, `github.com/`, an http(s) URL of a .git repository), with #ref:subdir. */
function gitContext(v: string): { remote: string; ref: string; subdir?: string } | undefined {
  const hash = v.indexOf('#');
  let remote = hash < 0 ? v : v.slice(0, hash);
  if (!(/^git:\/\//.test(remote) || /^git@[^:]+:/.test(remote) || /^github\.com\//.test(remote) || /^https?:\/\/.+\.git\/?$/.test(remote))) return undefined;
  if (remote.startsWith('github.com/')) remote = `https://${remote}`;
  const [ref = '', subdir] = (hash < 0 ? '' : v.slice(hash + 1)).split(':');
  return { remote, ref, subdir: subdir || undefined };
}
