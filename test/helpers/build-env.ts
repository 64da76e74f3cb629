/**
 * The common setup of end-to-end build tests: a registry holding the busybox base, a fresh
 * state dir and a temp dir for outputs, made before the file's tests and removed after them.
 * Call at the top level of a test file; read `env.reg` / `env.state` inside tests.
 */
import { afterAll, beforeAll } from 'bun:test';
import { withBusyboxRegistry, type BusyboxRegistry } from './busybox-image.ts';
import { tempStateDir } from './kiln.ts';
import { makeTempDir, removeAll } from '../../src/util/fs.ts';

export interface BuildEnv {
  reg: BusyboxRegistry;
  state: Awaited<ReturnType<typeof tempStateDir>>;
  /** A temp dir for the tests' outputs and scratch files. */
  out: string;
}

export function useBuildEnv(): BuildEnv {
  const env = {} as BuildEnv;
  beforeAll(async () => {
    env.reg = await withBusyboxRegistry();
    env.state = await tempStateDir();
    env.out = await makeTempDir('kiln-out-');
  });
  afterAll(async () => {
    await env.reg?.stop();
    await env.state?.cleanup();
    if (env.out) await removeAll(env.out);
  });
  return env;
}
