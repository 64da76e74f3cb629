import { readFile, stat } from 'node:fs/promises';
import * as llb from '../llb/index.ts';
import type { FrontendContext, FrontendWarning, ImageConfigFile } from '../frontend/api.ts';
import type { ImageResolver } from '../source/image-resolver.ts';
import { resolveInRoot } from '../solver/ops/safe-path.ts';
import { KilnError } from '../util/errors.ts';
import { formatReference } from '../oci/reference.ts';
import type { BuildRequest } from './request.ts';
import { hostPlatform } from '../oci/platform.ts';

/** The FrontendContext of one build: inputs are the request's local dirs, read inside their roots. */
export function createFrontendContext(req: BuildRequest, resolver: ImageResolver, warn: (w: FrontendWarning) => void): FrontendContext {
  const dirOf = (input: string) => {
    const d = req.locals[input];
    if (!d) throw new KilnError(`no local input named "${input}"`, { kind: 'usage' });
    return d;
  };
  return {
    opts: {
      buildArgs: req.buildArgs,
      target: req.target,
      platforms: req.platforms,
      buildPlatform: hostPlatform(),
      labels: req.labels,
      raw: req.opts,
      filename: req.filename,
      noCache: req.noCache,
    },
    inputs: {
      names: () => Object.keys(req.locals),
      async readFile(input, path) {
        const p = await resolveInRoot(dirOf(input), path);
        try {
          return await readFile(p);
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'ENOENT') throw new KilnError(`failed to read ${path}: no such file in ${dirOf(input)}`, { kind: 'usage' });
          throw err;
        }
      },
      async stat(input, path) {
        const st = await stat(await resolveInRoot(dirOf(input), path)).catch(() => undefined);
        return st ? { isDirectory: st.isDirectory(), size: st.size } : undefined;
      },
    },
    llb,
    async resolveImageConfig(ref, platform) {
      const r = await resolver.resolve(ref, platform);
      const pinned = `${formatReference({ ...r.ref, digest: undefined })}@${r.manifestDigest}`;
      return { ref: pinned, digest: r.manifestDigest, config: r.config as unknown as ImageConfigFile };
    },
    warn,
  };
}
