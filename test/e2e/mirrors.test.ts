/**
 * Registry mirrors from the config file ([registry."host"] mirrors = [...]): an image named
 * for a registry that does not answer is pulled from its mirror; a mirror without the
 * image falls back to the registry itself.
 */
import { describe, expect, test } from 'bun:test';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { withBusyboxRegistry } from '../helpers/busybox-image.ts';
import { freePort, startRegistry } from '../helpers/registry.ts';
import { makeContext, runKiln, tempStateDir } from '../helpers/kiln.ts';

describe('registry mirrors', () => {
  test('the mirror serves an unreachable registry; an empty mirror falls back to the origin', async () => {
    const mirror = await withBusyboxRegistry();
    const empty = await startRegistry();
    const state = await tempStateDir();
    const deadPort = await freePort(); // nothing listens there
    const mirrorHost = mirror.ref.split('/')[0]!;
    const ctx = await makeContext({
      Dockerfile: `FROM 127.0.0.1:${deadPort}/busybox:latest\nRUN echo via-mirror > /m\n`,
      'origin/Dockerfile': `FROM ${mirror.ref}\nRUN echo via-origin > /o\n`,
      'kiln.toml': `[registry."127.0.0.1:${deadPort}"]\nmirrors = ["${mirrorHost}"]\n`,
    });
    try {
      const cfg = join(ctx.dir, 'kiln.toml');
      const none = await runKiln(['build', '--progress=plain', ctx.dir], { root: state.root });
      expect(none.code).toBe(1); // no config: the registry itself, which does not answer
      const r = await runKiln(['build', '--progress=plain', '--config', cfg, ctx.dir], { root: state.root });
      if (r.code !== 0) console.error(r.stderr);
      expect(r.code).toBe(0);

      // A mirror that has nothing: the origin answers.
      await writeFile(join(ctx.dir, 'fallback.toml'), `[registry."${mirrorHost}"]\nmirrors = ["${empty.host}"]\n`);
      const f = await runKiln(['build', '--progress=plain', '--config', join(ctx.dir, 'fallback.toml'), '-f', join(ctx.dir, 'origin', 'Dockerfile'), ctx.dir], { root: state.root });
      if (f.code !== 0) console.error(f.stderr);
      expect(f.code).toBe(0);
    } finally {
      await ctx.cleanup();
      await mirror.stop();
      await empty.stop();
      await state.cleanup();
    }
  });
});
