import { describe, expect, test } from 'bun:test';
import { missReason, stepIdent, type KeyFacts } from '../../src/solver/miss-reason.ts';

const exec = (env: string[], args = ['/bin/sh', '-c', 'make']): KeyFacts => ({
  op: { type: 'exec', meta: { args, env, cwd: '/', user: '' }, mounts: [], network: 'sandbox', security: 'sandbox' },
  inputs: [{ name: '[1/3] FROM x', key: 'k1:0' }],
});

describe('missReason', () => {
  test('no earlier build', () => expect(missReason(undefined, exec([]))).toBe('no earlier build of this step'));
  test('a build arg (env of the step)', () => expect(missReason(exec(['VERSION=1']), exec(['VERSION=2']))).toBe('env VERSION: "1" → "2"'));
  test('the command', () => expect(missReason(exec([], ['make']), exec([], ['make all']))).toBe('command: "make" → "make all"'));
  test('a base image digest', () => {
    const src = (d: string): KeyFacts => ({ op: { type: 'source', identifier: `docker-image://127.0.0.1:5000/busybox:latest@sha256:${d}` }, inputs: [] });
    expect(missReason(src('a'.repeat(64)), src('b'.repeat(64)))).toBe('base image 127.0.0.1:5000/busybox:latest changed digest');
  });
  test('an input', () => {
    const b = exec([]);
    b.inputs = [{ name: '[1/3] FROM x', key: 'k2:0' }];
    expect(missReason(exec([]), b)).toBe('input changed: [1/3] FROM x');
  });
  test('step identity ignores the instruction text', () => expect(stepIdent('[build 2/5] RUN make', 'Dockerfile')).toBe('Dockerfile [build 2/5]'));
});
