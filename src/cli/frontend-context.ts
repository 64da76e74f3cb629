import * as llb from '../llb/index.ts';
import type { Definition, FileTree, FrontendContext, FrontendWarning, ImageConfigFile } from '../frontend/api.ts';
import { fileTreeAt } from './file-tree.ts';
import type { ImageResolver } from '../source/image-resolver.ts';
import { KilnError } from '../util/errors.ts';
import { formatReference } from '../oci/reference.ts';
import type { BuildRequest } from './request.ts';
import { hostPlatform } from '../oci/platform.ts';

/** How a build solves a frontend's definitions (ctx.solve); absent where nothing is built (--call, check). */
export type FrontendSolve = (definition: Definition) => Promise<FileTree>;

/** The FrontendContext of one build: inputs are the request's local dirs, read inside their roots. */
export function createFrontendContext(req: BuildRequest, resolver: ImageResolver, warn: (w: FrontendWarning) => void, hooks: { solve?: FrontendSolve; progress?: (message: string) => void } = {}): FrontendContext {
  const treeOf = (input: string) => {
    const d = req.locals[input];
    if (!d) throw new KilnError(`no local input named "${input}"`, { kind: 'usage' });
    return fileTreeAt(d, d);
  };
  return {
    opts: {
      buildArgs: req.buildArgs,
      target: req.target,
      platforms: req.platforms,
      multiPlatform: req.platforms.length > 1 || req.buildArgs.BUILDKIT_MULTI_PLATFORM === '1' || req.opts['multi-platform'] === 'true',
      buildPlatform: hostPlatform(),
      labels: req.labels,
      raw: req.opts,
      filename: req.filename,
      noCache: req.noCache,
    },
    inputs: {
      names: () => Object.keys(req.locals),
      readFile: (input, path) => treeOf(input).readFile(path),
      readDir: (input, path) => treeOf(input).readDir(path),
      stat: (input, path) => treeOf(input).stat(path),
    },
    llb,
    async resolveImageConfig(ref, platform) {
      const r = await resolver.resolve(ref, platform);
      const pinned = `${formatReference({ ...r.ref, digest: undefined })}@${r.manifestDigest}`;
      return { ref: pinned, digest: r.manifestDigest, config: r.config as unknown as ImageConfigFile };
    },
    async solve(definition) {
      if (!hooks.solve) throw new KilnError('ctx.solve is not available here (this request builds nothing)', { kind: 'usage' });
      return hooks.solve(definition);
    },
    warn,
    progress: (message) => hooks.progress?.(message),
  };
}
