/**
 * What RUN --security=insecure adds on this host (BuildKit's WithInsecureSpec): every capability
 * kiln holds (all of them, unless kiln itself runs with a reduced set), and the host devices BuildKit passes in (kmsg, fuse, cuse, kvm, tun,
 * loop-control and the loop devices) that exist here.
 */
import { readFile, stat } from 'node:fs/promises';
import type { OciDevice } from './spec.ts';

/** Linux capabilities by number (capability.h). */
const CAPABILITIES = [
  'CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID', 'SETPCAP',
  'LINUX_IMMUTABLE', 'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_ADMIN', 'NET_RAW', 'IPC_LOCK', 'IPC_OWNER',
  'SYS_MODULE', 'SYS_RAWIO', 'SYS_CHROOT', 'SYS_PTRACE', 'SYS_PACCT', 'SYS_ADMIN', 'SYS_BOOT', 'SYS_NICE',
  'SYS_RESOURCE', 'SYS_TIME', 'SYS_TTY_CONFIG', 'MKNOD', 'LEASE', 'AUDIT_WRITE', 'AUDIT_CONTROL', 'SETFCAP',
  'MAC_OVERRIDE', 'MAC_ADMIN', 'SYSLOG', 'WAKE_ALARM', 'BLOCK_SUSPEND', 'AUDIT_READ', 'PERFMON', 'BPF',
  'CHECKPOINT_RESTORE',
].map((c) => `CAP_${c}`);

const DEVICES = ['/dev/kmsg', '/dev/cuse', '/dev/fuse', '/dev/kvm', '/dev/net/tun', '/dev/loop-control'];
const LOOP_DEVICES = 8;

async function hostDevice(path: string): Promise<OciDevice | undefined> {
  const st = await stat(path).catch(() => undefined);
  if (!st || !(st.isCharacterDevice() || st.isBlockDevice())) return undefined;
  const rdev = st.rdev;
  return {
    path,
    type: st.isBlockDevice() ? 'b' : 'c',
    major: Math.floor(rdev / 256) & 0xfff,
    minor: (rdev & 0xff) | (Math.floor(rdev / 4096) & 0xfff00),
    fileMode: st.mode & 0o777,
    uid: 0,
    gid: 0,
  };
}

/** Every capability kiln itself holds (its effective set: what it can grant a container). */
async function ownCapabilities(): Promise<string[]> {
  const status = await readFile('/proc/self/status', 'utf8').catch(() => '');
  const hex = /^CapEff:\s*([0-9a-f]+)$/m.exec(status)?.[1];
  if (!hex) return [];
  const bits = BigInt(`0x${hex}`);
  return CAPABILITIES.filter((_, i) => (bits >> BigInt(i)) & 1n);
}

export async function privilegedExtras(): Promise<{ capabilities: string[]; devices: OciDevice[] }> {
  const capabilities = await ownCapabilities();
  const paths = [...DEVICES, ...Array.from({ length: LOOP_DEVICES }, (_, i) => `/dev/loop${i}`)];
  const devices = (await Promise.all(paths.map(hostDevice))).filter((d): d is OciDevice => d !== undefined);
  return { capabilities, devices };
}
