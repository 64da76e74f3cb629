/**
 * LLB: the content-addressed build graph every frontend produces and the solver runs.
 * Ops are plain data. An op's digest is the sha256 of its canonical encoding
 * (encode.ts); metadata (names, progress groups, source locations) lives beside the
 * ops in the Definition and never enters a digest.
 */
import type { Digest } from '../util/digest.ts';

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

/** A reference to output `index` of the op with digest `digest`. */
export interface OpInput {
  digest: Digest;
  index: number;
}

/**
 * `docker-image://REF`, `local://NAME`, `https://URL`, `git://URL#REF`, `oci-layout://...`.
 * attrs are source-specific (e.g. `local.includepattern`, `image.resolvemode`).
 */
export interface SourceOp {
  type: 'source';
  identifier: string;
  attrs?: Record<string, string>;
}

export type NetMode = 'sandbox' | 'host' | 'none';
export type SecurityMode = 'sandbox' | 'insecure';
export type MountType = 'bind' | 'cache' | 'tmpfs' | 'secret' | 'ssh';

export interface ExecMount {
  /** Index into the op's inputs, or -1 for an empty (scratch) mount. */
  input: number;
  /** Path inside the input to mount (bind), '' or '/' for its root. */
  selector?: string;
  dest: string;
  /** Output index this mount's changes become, or -1 when discarded. */
  output: number;
  readonly?: boolean;
  type: MountType;
  cache?: { id: string; sharing: 'shared' | 'private' | 'locked' };
  tmpfs?: { size?: number };
  secret?: { id: string; uid: number; gid: number; mode: number; optional: boolean };
  ssh?: { id: string; uid: number; gid: number; mode: number; optional: boolean };
}

/** One rlimit (RLIMIT_<NAME>); -1 means unlimited. */
export interface Ulimit {
  name: string;
  soft: number;
  hard: number;
}

export interface ExecMeta {
  args: string[];
  env: string[];
  cwd: string;
  user: string;
  hostname?: string;
  extraHosts?: { host: string; ip: string }[];
  /** Proxy env vars: given to the process but never part of the cache key. */
  proxyEnv?: Record<string, string>;
  /** Resource limits (`--ulimit`): the process's rlimits; never part of the cache key. */
  ulimits?: Ulimit[];
}

export interface ExecOp {
  type: 'exec';
  meta: ExecMeta;
  mounts: ExecMount[];
  network: NetMode;
  security: SecurityMode;
  secretEnv?: { id: string; name: string; optional: boolean }[];
}

/** uid/gid by number or by name (resolved in the destination's /etc/passwd, /etc/group). */
export interface ChownOpt {
  user?: { id: number } | { name: string };
  group?: { id: number } | { name: string };
}

export interface FileCopy {
  type: 'copy';
  src: string;
  dest: string;
  owner?: ChownOpt;
  /** Octal mode bits to apply, or -1/undefined to keep. */
  mode?: number;
  modeStr?: string;
  followSymlink?: boolean;
  dirCopyContents?: boolean;
  attemptUnpack?: boolean;
  createDestPath?: boolean;
  allowWildcard?: boolean;
  allowEmptyWildcard?: boolean;
  /** Unix seconds; all copied files get this mtime. */
  timestamp?: number;
  includePatterns?: string[];
  excludePatterns?: string[];
  alwaysReplaceExistingDestPaths?: boolean;
}

export interface FileMkdir {
  type: 'mkdir';
  path: string;
  mode: number;
  makeParents?: boolean;
  owner?: ChownOpt;
  timestamp?: number;
}

export interface FileMkfile {
  type: 'mkfile';
  path: string;
  mode: number;
  /** File contents, base64 (so that the op stays JSON). */
  data: string;
  owner?: ChownOpt;
  timestamp?: number;
}

export interface FileRm {
  type: 'rm';
  path: string;
  allowNotFound?: boolean;
  allowWildcard?: boolean;
}

export interface FileSymlink {
  type: 'symlink';
  oldpath: string;
  newpath: string;
  owner?: ChownOpt;
  timestamp?: number;
}

export type FileActionBody = FileCopy | FileMkdir | FileMkfile | FileRm | FileSymlink;

/**
 * Like BuildKit's: `input`/`secondaryInput` index the op's inputs when < inputs.length,
 * or earlier actions' outputs at `inputs.length + actionIndex`; -1 means scratch.
 */
export interface FileAction {
  input: number;
  secondaryInput: number;
  output: number;
  action: FileActionBody;
}

export interface FileOp {
  type: 'file';
  actions: FileAction[];
}

export interface MergeOp {
  type: 'merge';
}

/**
 * The changes from `lower` to `upper` (BuildKit's DiffOp): merged onto `lower`, they give
 * `upper`. Each side is an input index, or -1 for the empty file system.
 */
export interface DiffOp {
  type: 'diff';
  lower: number;
  upper: number;
}

export type OpBody = SourceOp | ExecOp | FileOp | MergeOp | DiffOp;

export interface Op {
  inputs: OpInput[];
  op: OpBody;
  platform?: Platform;
}

export interface SourceRange {
  startLine: number;
  endLine: number;
}

export interface OpMetadata {
  /** e.g. `llb.customname`: `[stage 2/4] RUN make`. */
  description?: Record<string, string>;
  ignoreCache?: boolean;
  progressGroup?: { id: string; name: string };
  /** Where in the build file this op comes from (file name → ranges). */
  locations?: { file: string; ranges: SourceRange[] }[];
}

/** A complete graph: ops in dependency order (inputs before users), plus what to build. */
export interface Definition {
  version: 1;
  ops: { digest: Digest; op: Op }[];
  metadata: Record<string, OpMetadata>;
  /** Build files that locations refer to (name → text), for error frames. */
  sources?: Record<string, string>;
  /** The result; null means the empty filesystem (scratch). */
  output: OpInput | null;
}
