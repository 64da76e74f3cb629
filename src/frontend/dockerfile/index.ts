import { defineFrontend } from '../api.ts';
import { convertDockerfile } from './convert/convert.ts';
import { dockerfileOutline, dockerfileTargets } from './convert/outline.ts';

/** The built-in Dockerfile frontend, written against the public frontend API only. */
export default defineFrontend({
  name: 'dockerfile.v0',
  async build(ctx) {
    const file = ctx.opts.filename || 'Dockerfile';
    const bytes = await ctx.inputs.readFile('dockerfile', file);
    return convertDockerfile(new TextDecoder().decode(bytes), ctx, file);
  },
  async call(request, ctx) {
    const file = ctx.opts.filename || 'Dockerfile';
    const text = new TextDecoder().decode(await ctx.inputs.readFile('dockerfile', file));
    return (request === 'targets' ? dockerfileTargets(text, ctx, file) : dockerfileOutline(text, ctx, file)) as never;
  },
});
