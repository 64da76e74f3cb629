/** The executor: runs RUN steps in an OCI runtime (runc or crun) container. */
export { runContainer } from './run.ts';
export { resolveUser } from './user.ts';
export { findRuntime } from './runtime.ts';
export type { ExecMount, RunOptions, RunResult, ResolvedUser } from './types.ts';
