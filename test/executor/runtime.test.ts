import { describe, expect, test } from 'bun:test';
import { findRuntime } from '../../src/executor/index.ts';
import { KilnError } from '../../src/util/errors.ts';

describe('findRuntime', () => {
  test('finds runc by default and by absolute path', async () => {
    const rt = await findRuntime();
    expect(rt.name).toBe('runc');
    expect(rt.path).toEndWith('/runc');
    expect(await findRuntime(rt.path)).toEqual({ name: 'runc', path: rt.path });
  });

  test('a missing runtime is a clear error with a hint', async () => {
    const err = await findRuntime('/nonexistent/runc').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KilnError);
    expect((err as KilnError).hint).toBeTruthy();
  });

  test('runc or crun installed nowhere: the error says how to install it', async () => {
    for (const name of ['runc', 'crun']) {
      const err = (await findRuntime(name, ['/nonexistent']).catch((e: unknown) => e)) as KilnError;
      expect(err.message).toBe(`OCI runtime ${name} not found in PATH`);
      expect(err.hint).toContain(`apt-get install ${name}`);
    }
  });

  test('an unknown runtime name is a usage error', async () => {
    const err = await findRuntime('kata').catch((e: unknown) => e);
    expect((err as KilnError).kind).toBe('usage');
    expect((err as KilnError).hint).toContain('runc');
  });
});
