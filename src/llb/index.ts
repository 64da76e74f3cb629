/** The LLB builder API: what frontends use to describe work. */
export { State, ExecState, DEFAULT_PATH, joinPath, type RunOptions, type RunMount } from './state.ts';
export { FileChain, copy, mkdir, mkfile, rm, symlink } from './file.ts';
export { image, local, scratch, merge, diff, http, git } from './sources.ts';
export { marshal } from './marshal.ts';
export { canonicalJson, opDigest } from './encode.ts';
export type { ConstraintsOpt } from './vertex.ts';
export type * from './types.ts';
