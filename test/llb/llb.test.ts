import { describe, expect, test } from 'bun:test';
import * as llb from '../../src/llb/index.ts';

describe('canonical encoding', () => {
  test('key order does not matter; undefined members are dropped', () => {
    expect(llb.canonicalJson({ b: 1, a: { d: [1, 'x'], c: undefined } })).toBe('{"a":{"d":[1,"x"]},"b":1}');
    expect(llb.canonicalJson({ a: { d: [1, 'x'] }, b: 1 })).toBe(llb.canonicalJson({ b: 1, a: { d: [1, 'x'] } }));
  });

  test('op digests are stable across runs (golden value)', () => {
    const def = llb.image('docker.io/library/busybox:latest', { platform: { os: 'linux', architecture: 'amd64' } }).marshal();
    expect(def.ops).toHaveLength(1);
    expect(def.ops[0]!.digest).toBe(llb.opDigest(def.ops[0]!.op));
    // A change here changes every cache key users have: only on purpose.
    expect(def.ops[0]!.digest).toBe('sha256:eef6a651922f6f573fc6e66acdcff28596416780a9cf0a3f82a1726461c82040');
  });
});

describe('State builder', () => {
  test('states are immutable', () => {
    const a = llb.scratch().addEnv('A', '1').dir('/app');
    const b = a.addEnv('A', '2').dir('sub');
    expect(a.getEnv('A')).toBe('1');
    expect(a.getDir()).toBe('/app');
    expect(b.getEnv('A')).toBe('2');
    expect(b.getDir()).toBe('/app/sub');
  });

  test('identical work described twice is one op; metadata never changes digests', () => {
    const base = llb.image('busybox');
    const r1 = base.run({ args: ['sh', '-c', 'echo hi'], customName: 'first' }).root();
    const r2 = base.run({ args: ['sh', '-c', 'echo hi'], customName: 'second' }).root();
    const d1 = r1.marshal();
    const d2 = r2.marshal();
    expect(d1.output).toEqual(d2.output);
    const merged = r1.file(llb.copy(r2, '/x', '/y')).marshal();
    const execs = merged.ops.filter((o) => o.op.op.type === 'exec');
    expect(execs).toHaveLength(1);
  });

  test('run mounts the state as root and puts PATH in the env', () => {
    const def = llb.image('busybox').dir('/w').user('1000').run({ args: ['true'] }).root().marshal();
    const exec = def.ops.find((o) => o.op.op.type === 'exec')!.op.op;
    if (exec.type !== 'exec') throw new Error('not exec');
    expect(exec.meta.cwd).toBe('/w');
    expect(exec.meta.user).toBe('1000');
    expect(exec.meta.env[0]).toStartWith('PATH=');
    expect(exec.mounts[0]).toEqual({ input: 0, dest: '/', output: 0, type: 'bind' });
  });

  test('file chains index earlier actions after the inputs', () => {
    const ctx = llb.local('context');
    const st = llb.scratch().file(llb.mkdir('/a', 0o755).copy(ctx, '/f', '/a/f'));
    const def = st.marshal();
    const file = def.ops.find((o) => o.op.op.type === 'file')!.op;
    if (file.op.type !== 'file') throw new Error('not file');
    expect(file.inputs).toHaveLength(1);
    expect(file.op.actions.map((a) => [a.input, a.secondaryInput, a.output])).toEqual([
      [-1, -1, -1],
      [1, 0, 0],
    ]);
  });
});
