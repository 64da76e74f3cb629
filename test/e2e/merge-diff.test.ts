/**
 * LLB diff and merge from a frontend plugin, through the compiled binary: a diff of a state
 * and the same state with a step on top is that step's layer (removals included), merged onto
 * another base it applies there; a diff of unrelated trees is computed file by file; a diff
 * exported as an image is its changes, whiteouts and all.
 */
import { describe, expect, test } from 'bun:test';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeContext, runKiln } from '../helpers/kiln.ts';
import { useBuildEnv } from '../helpers/build-env.ts';
import { runTool, verifyOciArchive } from '../helpers/verify-image.ts';

const env = useBuildEnv();

/** A plugin whose result is chosen by the build arg CASE. */
const PLUGIN = `
export default {
  name: 'diffs',
  async build(ctx) {
    const { llb } = ctx;
    const platform = ctx.opts.platforms[0];
    const base = await ctx.resolveImageConfig(ctx.opts.buildArgs.BASE, platform);
    const s1 = llb.image(base.ref, { platform }).file(llb.mkfile('/a', 0o644, 'a\\n').mkfile('/b', 0o644, 'b\\n'));
    const s2 = s1.run({ args: ['/bin/sh', '-c', 'rm /b && echo c > /c && echo a2 > /a'] }).root();
    const other = llb.scratch().file(llb.mkfile('/a', 0o644, 'other a\\n').mkfile('/b', 0o644, 'other b\\n').mkfile('/x', 0o644, 'x\\n'));
    // Fixed times: an entry counts as changed when its mtime differs.
    const t = { timestamp: 1700000000 };
    const lower = llb.scratch().file(llb.mkfile('/one', 0o644, '1\\n', t).mkfile('/gone', 0o644, 'g\\n', t).mkdir('/d', 0o755, t).mkfile('/d/in', 0o600, 'in\\n', t));
    const upper = llb.scratch().file(llb.mkfile('/one', 0o644, 'one!\\n', t).mkfile('/new', 0o755, 'n\\n', t).mkdir('/d', 0o755, t).mkfile('/d/in', 0o600, 'in\\n', t));
    const cases = {
      // the step's layer, onto another base: /b removed there too, /a and /c from the step
      layered: llb.merge([other, llb.diff(s1, s2)]),
      // the removal of what s1 added to the image: /a and /b gone from other
      removal: llb.merge([other, llb.diff(s1, llb.image(base.ref, { platform }))]),
      // unrelated trees: compared file by file; merged onto lower it gives upper
      computed: llb.merge([lower, llb.diff(lower, upper)]),
      // from nothing: the whole upper
      whole: llb.diff(llb.scratch(), upper),
      // the diff alone, as an image layer
      alone: llb.diff(lower, upper),
    };
    const st = cases[ctx.opts.buildArgs.CASE];
    return { definition: st.marshal(), config: { architecture: platform.architecture, os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [] } } };
  },
};
`;

describe('diff and merge', () => {
  test('diffs of stacked and unrelated states, merged and exported', async () => {
    const ctx = await makeContext({});
    try {
      const plugin = join(ctx.dir, 'diffs.ts');
      await writeFile(plugin, PLUGIN);
      const tree = async (name: string) => {
        const dest = join(env.out, name);
        const r = await runKiln(['build', '--progress=plain', '--frontend', plugin, '--build-arg', `BASE=${env.reg.ref}`, '--build-arg', `CASE=${name}`, '-o', `type=local,dest=${dest}`, ctx.dir], { root: env.state.root });
        if (r.code !== 0) console.error(r.stderr);
        expect(r.code).toBe(0);
        const out: Record<string, string> = {};
        const walk = async (rel: string) => {
          for (const e of await readdir(join(dest, rel), { withFileTypes: true })) {
            const r2 = rel ? `${rel}/${e.name}` : e.name;
            if (e.isDirectory()) await walk(r2);
            else out[r2] = await readFile(join(dest, r2), 'utf8');
          }
        };
        await walk('');
        return out;
      };
      expect(await tree('layered')).toEqual({ a: 'a2\n', c: 'c\n', x: 'x\n' });
      expect(await tree('removal')).toEqual({ x: 'x\n' });
      expect(await tree('computed')).toEqual({ one: 'one!\n', new: 'n\n', 'd/in': 'in\n' });
      const whole = await tree('whole');
      expect(whole.one).toBe('one!\n');
      expect(whole.new).toBe('n\n');

      const oci = join(env.out, 'alone.tar');
      const r = await runKiln(['build', '--frontend', plugin, '--build-arg', `BASE=${env.reg.ref}`, '--build-arg', 'CASE=alone', '-o', `type=oci,dest=${oci}`, ctx.dir], { root: env.state.root });
      expect(r.code).toBe(0);
      const { manifest } = await verifyOciArchive(oci);
      expect(manifest.layers.length).toBe(1);
      const listing = (await runTool('sh', ['-c', `tar -xOf '${oci}' 'blobs/sha256/${manifest.layers[0].digest.slice(7)}' | tar -tzf -`])).stdout.split('\n').filter(Boolean).sort();
      expect(listing).toContain('.wh.gone');
      expect(listing).toContain('one');
      expect(listing).toContain('new');
      expect(listing).not.toContain('d/in'); // unchanged (d/ itself may be: its mtime is when d/in was made)
    } finally {
      await ctx.cleanup();
    }
  }, 60_000);
});
