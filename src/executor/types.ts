/** The public shapes of the executor: what a RUN step asks for and what it gets back. */

/** An extra mount inside the container. `source` is a host path for binds; tmpfs ignores it. */
export interface ExecMount {
  destination: string;
  type: 'bind' | 'tmpfs';
  source?: string;
  /** Extra mount options passed to the runtime as-is (e.g. `size=64m`, `mode=1777`). */
  options?: string[];
  readonly?: boolean;
}

export interface RunOptions {
  /** A mounted, writable directory used as the container's root filesystem. */
  rootfs: string;
  /** argv; never run through a shell by the executor. */
  args: string[];
  /** "K=V" entries; PATH gets the default value when absent. */
  env: string[];
  /** Absolute path in the container; created (owned by the user) if missing, like BuildKit. */
  cwd: string;
  /** As in USER: "uid[:gid]" or "name[:group]"; "" means root. */
  user: string;
  /** Defaults to "buildkitsandbox". */
  hostname?: string;
  network: 'host' | 'none';
  extraHosts?: { host: string; ip: string }[];
  mounts?: ExecMount[];
  /** Process rlimits (RLIMIT_<NAME>; -1 = unlimited). Unset: inherited from kiln. */
  ulimits?: { name: string; soft: number; hard: number }[];
  /** RUN --security=insecure: every capability, host devices, writable /sys and cgroupfs. */
  privileged?: boolean;
  /** 'runc' (default), 'crun', or an absolute path to an OCI runtime binary. */
  runtime?: string;
  /** A directory for bundles and the runtime's --root; created if missing. */
  stateDir: string;
  onOutput?: (stream: 'stdout' | 'stderr', chunk: Uint8Array) => void;
  /** Abort kills the container, cleans up, and rejects with a KilnError of kind 'canceled'. */
  signal?: AbortSignal;
}

export interface RunResult {
  exitCode: number;
}

/** A user resolved against the rootfs' /etc/passwd and /etc/group. */
export interface ResolvedUser {
  uid: number;
  gid: number;
  /** Always contains `gid` first (as BuildKit passes them to the runtime), then supplementary groups. */
  additionalGids: number[];
}
