/** Several kiln processes on one state dir: all succeed, a shared step runs once. */
import { describe, expect, test } from 'bun:test';
import { useBuildEnv } from '../helpers/build-env.ts';
import { makeContext, runKiln } from '../helpers/kiln.ts';

const env = useBuildEnv();

describe('concurrent builds on one state dir', () => {
  test('4 builds at once (3 identical, 1 different): all succeed; the shared step runs once', async () => {
    const same = await makeContext({ Dockerfile: `FROM ${env.reg.ref}\nRUN echo shared-step && sleep 1 && date +%s%N > /t\n` });
    const other = await makeContext({ Dockerfile: `FROM ${env.reg.ref}\nRUN echo other-step > /o\n` });
    try {
      const runs = await Promise.all([
        runKiln(['build', '--progress=plain', same.dir], { root: env.state.root }),
        runKiln(['build', '--progress=plain', same.dir], { root: env.state.root }),
        runKiln(['build', '--progress=plain', other.dir], { root: env.state.root }),
        runKiln(['build', '--progress=plain', same.dir], { root: env.state.root }),
      ]);
      for (const r of runs) {
        if (r.code !== 0) console.error(r.stderr);
        expect(r.code).toBe(0);
      }
      const ranShared = [runs[0]!, runs[1]!, runs[3]!].filter((r) => /#\d+ \d+\.\d+ shared-step/.test(r.stderr));
      expect(ranShared).toHaveLength(1);
    } finally {
      await same.cleanup();
      await other.cleanup();
    }
  });
});
