/**
 * The OCI runtime config.json of a RUN step: containerd's default Unix spec as BuildKit
 * adjusts it (no /run mount, read-only /etc/hosts and resolv.conf binds, a cgroup mount,
 * new privileges allowed, inherited rlimits, the default seccomp profile), plus the step's
 * process and mounts.
 */
import { posix } from 'node:path';
import type { ExecMount, ResolvedUser } from './types.ts';
import { seccompFor } from './seccomp.ts';
import { DEFAULT_SECCOMP_PROFILE } from './seccomp-profile.ts';

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Docker's (and containerd's) default capability set. */
export const DEFAULT_CAPABILITIES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

export const MASKED_PATHS = [
  '/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
  '/proc/timer_stats', '/proc/sched_debug', '/sys/firmware', '/sys/devices/virtual/powercap', '/proc/scsi',
];

export const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

export interface OciMount { destination: string; type: string; source: string; options: string[] }

export interface SpecInput {
  id: string;
  rootfs: string;
  args: string[];
  env: string[];
  cwd: string;
  user: ResolvedUser;
  hostname: string;
  network: 'host' | 'none';
  hostsFile: string;
  resolvConf: string;
  mounts: ExecMount[];
  /** Adds a cgroup namespace (BuildKit does so on cgroup v2 hosts). */
  cgroupNamespace: boolean;
  ulimits?: { name: string; soft: number; hard: number }[];
  /** --security=insecure: the host's capabilities and devices (privilegedExtras), no masked paths. */
  privileged?: { capabilities: string[]; devices: OciDevice[] };
}

export interface OciDevice { path: string; type: 'c' | 'b'; major: number; minor: number; fileMode: number; uid: number; gid: number }

/** RLIM_INFINITY does not fit a JS number: written as this token, replaced in specJson. */
const RLIM_INFINITY = '__kiln_rlim_infinity__';

/** config.json text: JSON with RLIM_INFINITY as the exact uint64 the runtime expects. */
export function specJson(spec: Record<string, unknown>): string {
  return JSON.stringify(spec).replaceAll(`"${RLIM_INFINITY}"`, '18446744073709551615');
}

/**
 * containerd's WithEnv over a default PATH: a later "K=V" replaces an earlier K in place,
 * a bare "K" removes K.
 */
export function mergeEnv(env: string[]): string[] {
  const out = [`PATH=${DEFAULT_PATH}`];
  for (const e of env) {
    const eq = e.indexOf('=');
    const key = eq < 0 ? e : e.slice(0, eq);
    const i = out.findIndex((x) => x === key || x.startsWith(`${key}=`));
    if (eq < 0) {
      if (i >= 0) out.splice(i, 1);
    } else if (i >= 0) {
      out[i] = e;
    } else {
      out.push(e);
    }
  }
  return out;
}

function defaultMounts(hostsFile: string, resolvConf: string, privileged: boolean): OciMount[] {
  const roBind = ['nosuid', 'noexec', 'nodev', 'rbind', 'ro'];
  const sysOpts = ['nosuid', 'noexec', 'nodev', ...(privileged ? [] : ['ro'])];
  return [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: sysOpts },
    { destination: '/etc/resolv.conf', type: 'bind', source: resolvConf, options: roBind },
    { destination: '/etc/hosts', type: 'bind', source: hostsFile, options: roBind },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: [...(privileged ? [] : ['ro']), 'nosuid', 'noexec', 'nodev'] },
  ];
}

/** An ExecMount as the runtime wants it; destinations are made absolute and clean. */
export function toOciMount(m: ExecMount): OciMount {
  const destination = posix.join('/', m.destination);
  if (m.type === 'tmpfs') {
    return { destination, type: 'tmpfs', source: 'tmpfs', options: ['nosuid', ...(m.readonly ? ['ro'] : []), ...(m.options ?? [])] };
  }
  return { destination, type: 'bind', source: m.source ?? '', options: ['rbind', m.readonly ? 'ro' : 'rw', ...(m.options ?? [])] };
}

/** Later mounts on the same destination replace earlier ones in place (BuildKit's dedupMounts). */
function dedupMounts(mounts: OciMount[]): OciMount[] {
  const out: OciMount[] = [];
  const at = new Map<string, number>();
  for (const m of mounts) {
    const i = at.get(m.destination);
    if (i === undefined) {
      at.set(m.destination, out.length);
      out.push(m);
    } else {
      out[i] = m;
    }
  }
  return out;
}

/** A complete config.json object. Pure; same input, same spec. */
export function generateSpec(input: SpecInput): Record<string, unknown> {
  const namespaces = [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }];
  if (input.network !== 'host') namespaces.push({ type: 'network' });
  if (input.cgroupNamespace) namespaces.push({ type: 'cgroup' });
  const priv = input.privileged;
  const caps = priv ? [...new Set([...DEFAULT_CAPABILITIES, ...priv.capabilities])] : DEFAULT_CAPABILITIES;
  const limit = (n: number) => (n === -1 ? RLIM_INFINITY : n);
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: false,
      user: { uid: input.user.uid, gid: input.user.gid, additionalGids: input.user.additionalGids },
      args: input.args,
      env: mergeEnv(input.env),
      cwd: posix.join('/', input.cwd),
      capabilities: priv
        ? { bounding: caps, effective: caps, permitted: caps, inheritable: caps, ambient: caps }
        : { bounding: caps, effective: caps, permitted: caps },
      ...(input.ulimits?.length ? { rlimits: input.ulimits.map((u) => ({ type: `RLIMIT_${u.name.toUpperCase()}`, soft: limit(u.soft), hard: limit(u.hard) })) } : {}),
      noNewPrivileges: false,
    },
    root: { path: input.rootfs, readonly: false },
    hostname: input.hostname,
    mounts: dedupMounts([...defaultMounts(input.hostsFile, input.resolvConf, !!priv), ...input.mounts.map(toOciMount)]),
    linux: {
      cgroupsPath: `/kiln/${input.id}`,
      resources: {
        devices: priv ? [{ allow: true, type: 'c', access: 'rwm' }, { allow: true, type: 'b', access: 'rwm' }] : [{ allow: false, access: 'rwm' }],
      },
      ...(priv?.devices.length ? { devices: priv.devices } : {}),
      namespaces,
      maskedPaths: priv ? [] : MASKED_PATHS,
      readonlyPaths: priv ? [] : READONLY_PATHS,
      // BuildKit's default seccomp profile, lifted only by --security=insecure.
      ...(priv ? {} : { seccomp: seccompFor(DEFAULT_SECCOMP_PROFILE, { capabilities: caps }) }),
    },
  };
}
