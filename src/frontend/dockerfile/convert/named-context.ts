import { KilnError } from '../../api.ts';
import type { FrontendContext } from '../../api.ts';
import type { State } from '../../api.ts';
import type { Platform } from '../../api.ts';
import { parseGitUrl } from '../../api.ts';
import { urlFileName } from './url-file-name.ts';
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
  const git = parseGitUrl(v, { githubShorthand: true });
  if (git) return { state: ctx.llb.git(git.remote, git.ref, { subdir: git.subdir, customName: `[context ${name}] ${v}` }) };
  if (/^https?:\/\//.test(v)) {
    // A single file, named after the URL's last path element (BuildKit's http source).
    const base = urlFileName(v);
    if (base === undefined) throw new KilnError(`build context ${name}: invalid URL ${JSON.stringify(v)}`, { kind: 'usage' });
    return { state: ctx.llb.http(v, { filename: base, customName: `[context ${name}] ${v}` }) };
  }
  const local = v.startsWith('local:') ? v.slice('local:'.length) : name;
  return { state: ctx.llb.local(local, { customName: `[context ${name}] load from client` }) };
}

