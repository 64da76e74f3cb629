/**
 * The common setup of end-to-end build tests: a registry holding the busybox base and a
 * fresh state dir, started before the file's tests and removed after them.
 * Call at the top level of a test file; read `env.reg` / `env.state` inside tests.
 */
import { afterAll, beforeAll } from 'bun:test';
import { withBusyboxRegistry, type BusyboxRegistry } from './busybox-image.ts';
import { tempStateDir } from './kiln.ts';

export interface BuildEnv {
  reg: BusyboxRegistry;
  state: Awaited<ReturnType<typeof tempStateDir>>;
}

export function useBuildEnv(): BuildEnv {
  const env = {} as BuildEnv;
  beforeAll(async () => {
    env.reg = await withBusyboxRegistry();
    env.state = await tempStateDir();
  });
  afterAll(async () => {
    await env.reg?.stop();
    await env.state?.cleanup();
  });
  return env;
}
