import { defineFrontend } from '../api.ts';
import { convertDockerfile } from './convert/convert.ts';

/** The built-in Dockerfile frontend, written against the public frontend API only. */
export default defineFrontend({
  name: 'dockerfile.v0',
  async build(ctx) {
    const file = ctx.opts.filename || 'Dockerfile';
    const bytes = await ctx.inputs.readFile('dockerfile', file);
    return convertDockerfile(new TextDecoder().decode(bytes), ctx, file);
  },
});
