import { defineFrontend } from '../api.ts';
import { convertDockerfile } from './convert/convert.ts';
import { dockerfileOutline, dockerfileTargets } from './convert/outline.ts';

/** The built-in Dockerfile frontend, written against the public frontend API only. */
export default defineFrontend({
  name: 'dockerfile.v0',
  async build(ctx) {
    const file = ctx.opts.filename || 'Dockerfile';
    const text = new TextDecoder().decode(await ctx.inputs.readFile('dockerfile', file));
    const { platforms } = ctx.opts;
    if (platforms.length === 1 && !ctx.opts.multiPlatform) return convertDockerfile(text, ctx, file);
    // One conversion per target platform (its TARGET* args and base images); a warning once.
    const seen = new Set<string>();
    const warn: typeof ctx.warn = (w) => {
      const key = JSON.stringify(w);
      if (seen.has(key)) return;
      seen.add(key);
      ctx.warn(w);
    };
    const results = await Promise.all(platforms.map((p) => convertDockerfile(text, { ...ctx, warn, opts: { ...ctx.opts, platforms: [p] } }, file)));
    return { ...results[0]!, platforms: results.map((r, i) => ({ platform: platforms[i]!, definition: r.definition, config: r.config })) };
  },
  async call(request, ctx) {
    const file = ctx.opts.filename || 'Dockerfile';
    const text = new TextDecoder().decode(await ctx.inputs.readFile('dockerfile', file));
    return (request === 'targets' ? dockerfileTargets(text, ctx, file) : dockerfileOutline(text, ctx, file)) as never;
  },
});
