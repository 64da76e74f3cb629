import { describe, expect, test } from 'bun:test';
import { applyModeSpec, parseModeSpec } from '../../src/util/file-mode.ts';

const apply = (spec: string, mode: number, dir = false) => applyModeSpec(parseModeSpec(spec), mode, dir).toString(8);

describe('symbolic chmod', () => {
  test.each([
    ['u+x', 0o644, false, '744'],
    ['go-w', 0o666, false, '644'],
    ['a=r', 0o755, false, '444'],
    ['+x', 0o600, false, '711'],
    ['a=rX', 0o600, false, '444'],
    ['a=rX', 0o700, false, '555'],
    ['a=rX', 0o700, true, '555'],
    ['u=rwx,g=rx,o=', 0o600, false, '750'],
    ['u+s,+t', 0o755, false, '5755'],
  ] as const)('%s on %o (dir %p) → %s', (spec, mode, dir, want) => expect(apply(spec, mode, dir)).toBe(want));

  test('bad specs are refused', () => {
    for (const bad of ['x+u', 'u+q', '', 'u+x,,']) expect(() => parseModeSpec(bad)).toThrow('invalid chmod parameter');
  });
});
