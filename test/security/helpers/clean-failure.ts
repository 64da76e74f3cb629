/**
 * What a refused hostile input must look like: exit 1 (2 for a usage error), a message saying
 * why, and never a stack trace, a JavaScript error name or a signal.
 */
import { expect } from 'bun:test';
import type { KilnRun } from '../../helpers/kiln.ts';

/** Lines that only an unhandled JavaScript error prints. */
export const CRASH_SIGNS = /^\s+at .+[:(]\d+|\b(TypeError|ReferenceError|RangeError|SyntaxError|AssertionError)\b|Unhandled|panic:|Segmentation fault|internal error/m;

export function expectCleanFailure(r: KilnRun, why: RegExp, codes = [1]): void {
  if (!codes.includes(r.code) || !why.test(r.stderr) || CRASH_SIGNS.test(r.stderr)) console.error(r.stderr);
  expect(codes).toContain(r.code);
  expect(r.stderr).toMatch(why);
  expect(r.stderr).not.toMatch(CRASH_SIGNS);
}
