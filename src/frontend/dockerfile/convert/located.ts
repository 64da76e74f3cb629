import { KilnError } from '../../api.ts';

/** An instruction's place in its Dockerfile. */
export interface LineRange {
  startLine: number;
  endLine: number;
}

/**
 * Runs `fn` for the instruction at `at` of `file`: whatever it throws comes out as a KilnError
 * located there (an error that already names its place keeps it). The one way conversion
 * attaches a Dockerfile line to an error, wherever in the converter it arises.
 */
export function atLine<T>(file: string, at: LineRange, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw located(err, file, at);
  }
}

/** `err` as a KilnError at `at` of `file` (see atLine). */
export function located(err: unknown, file: string, at: LineRange): KilnError {
  const location = { file, startLine: at.startLine, endLine: at.endLine };
  if (err instanceof KilnError) {
    err.location ??= location;
    return err;
  }
  return new KilnError((err as Error).message, { kind: 'input', location, cause: err });
}
