/**
 * Errors that kiln shows to users. Inner code throws these (or plain Errors); the
 * boundary that knows more (the Dockerfile instruction, the build step) wraps them once,
 * and the CLI prints them once.
 */

/** A Dockerfile (or other build file) position; lines are 1-based and inclusive. */
export interface SourceLocation {
  file: string;
  startLine: number;
  endLine: number;
}

export type ErrorKind = 'usage' | 'input' | 'build' | 'runtime' | 'internal' | 'canceled';

export class KilnError extends Error {
  override name = 'KilnError';
  /** What kind of failure: decides the exit code (usage 2, canceled 130, others 1). */
  kind: ErrorKind;
  /** One line telling the user what to do about it. */
  hint?: string;
  location?: SourceLocation;
  /** Extra lines to show under the message (e.g. the tail of a step's output). */
  details?: string[];
  /** The process exit code, when the kind's is not the one (143 for a build ended by SIGTERM). */
  exitCode?: number;

  constructor(
    message: string,
    opts: { kind?: ErrorKind; hint?: string; location?: SourceLocation; details?: string[]; cause?: unknown; exitCode?: number } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.kind = opts.kind ?? 'build';
    this.hint = opts.hint;
    this.location = opts.location;
    this.details = opts.details;
    this.exitCode = opts.exitCode;
  }
}

export function usageError(message: string, hint?: string): KilnError {
  return new KilnError(message, { kind: 'usage', hint });
}

export function exitCodeOf(err: unknown): number {
  if (err instanceof KilnError) {
    if (err.exitCode !== undefined) return err.exitCode;
    if (err.kind === 'usage') return 2;
    if (err.kind === 'canceled') return 130;
  }
  return 1;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Words for the file-system errors a build's inputs can cause. */
const ERRNO_WORDS: Record<string, string> = {
  ENAMETOOLONG: 'a path is longer than Linux allows (4095 bytes, 255 per name)',
  ELOOP: 'too many levels of symbolic links',
  ENOENT: 'no such file or directory',
  ENOTDIR: 'not a directory',
  EISDIR: 'is a directory',
  EEXIST: 'file exists',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  EMLINK: 'too many links',
  EFBIG: 'file too large',
  EINVAL: 'invalid argument',
  EXDEV: 'cross-device link',
  ENOTEMPTY: 'directory not empty',
};

/**
 * A file-system error (code, syscall, path) said in words, with a long path shortened: what a
 * user is shown instead of node's `ENAMETOOLONG: name too long, open '/var/lib/kiln/…'`.
 */
export function describeFsError(err: unknown): string | undefined {
  const e = err as NodeJS.ErrnoException | undefined;
  if (!e || typeof e.code !== 'string' || !ERRNO_WORDS[e.code]) return undefined;
  const p = typeof e.path === 'string' ? e.path : undefined;
  return `${ERRNO_WORDS[e.code]}${p ? `: ${shortPath(p)}` : ''} (${e.code}${e.syscall ? ` in ${e.syscall}` : ''})`;
}

/** A path for a message: a very long one as its start, its end and its length. */
export function shortPath(p: string): string {
  return p.length > 160 ? `${p.slice(0, 80)}…${p.slice(-60)} (${Buffer.byteLength(p)} bytes)` : p;
}

/** A plain object that survives structured clone (worker threads) and JSON. */
export interface FlatError {
  name: string;
  message: string;
  stack?: string;
  code?: string;
  kind?: ErrorKind;
  hint?: string;
  location?: SourceLocation;
  details?: string[];
}

export function flattenError(err: unknown): FlatError {
  if (err instanceof KilnError) {
    return { name: err.name, message: err.message, stack: err.stack, kind: err.kind, hint: err.hint, location: err.location, details: err.details };
  }
  if (err instanceof Error) {
    return { name: err.name, message: err.message, stack: err.stack, code: (err as NodeJS.ErrnoException).code };
  }
  return { name: 'Error', message: String(err) };
}

export function unflattenError(f: FlatError): Error {
  if (f.kind) {
    const e = new KilnError(f.message, { kind: f.kind, hint: f.hint, location: f.location, details: f.details });
    if (f.stack) e.stack = f.stack;
    return e;
  }
  const e = new Error(f.message) as NodeJS.ErrnoException;
  e.name = f.name;
  if (f.code) e.code = f.code;
  if (f.stack) e.stack = f.stack;
  return e;
}
