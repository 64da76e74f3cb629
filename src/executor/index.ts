/** The executor: runs RUN steps in an OCI runtime (runc or crun) container. */
export { runContainer } from './run.ts';
export { resolveUser } from './user.ts';
export { findRuntime } from './runtime.ts';
export { recoverContainers } from './recover.ts';
export type { ExecMount, RunOptions, RunResult, ResolvedUser } from './types.ts';
