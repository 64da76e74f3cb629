/**
 * The fixture most e2e files share: a local registry holding busybox, a state dir and a build
 * context whose files may name the base image, made before the file's tests and removed after.
 */
import { afterAll, beforeAll } from 'bun:test';
import { withBusyboxRegistry, type BusyboxRegistry } from './busybox-image.ts';
import { makeContext, tempStateDir } from './kiln.ts';

export interface BuildFixture {
  reg: BusyboxRegistry;
  state: Awaited<ReturnType<typeof tempStateDir>>;
  ctx: Awaited<ReturnType<typeof makeContext>>;
}

/** Registers beforeAll/afterAll; the returned object is filled in before the first test runs. */
export function useBuildFixture(files: (baseRef: string) => Record<string, string>): BuildFixture {
  const f = {} as BuildFixture;
  beforeAll(async () => {
    f.reg = await withBusyboxRegistry();
    f.state = await tempStateDir();
    f.ctx = await makeContext(files(f.reg.ref));
  });
  afterAll(async () => {
    await f.reg?.stop();
    await f.ctx?.cleanup();
    await f.state?.cleanup();
  });
  return f;
}
