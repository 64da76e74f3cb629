import { describe, expect, test } from 'bun:test';
import { hostsFileContent, resolvConfContent } from '../../src/executor/etc-files.ts';
import { DEFAULT_CAPABILITIES, generateSpec, mergeEnv, type OciMount, type SpecInput } from '../../src/executor/spec.ts';
import { KilnError } from '../../src/util/errors.ts';

const input: SpecInput = {
  id: 'kiln-x',
  rootfs: '/r',
  args: ['/bin/sh', '-c', 'true'],
  env: ['A=1'],
  cwd: 'work/../app',
  user: { uid: 1, gid: 2, additionalGids: [2, 3] },
  hostname: 'buildkitsandbox',
  network: 'none',
  hostsFile: '/s/hosts',
  resolvConf: '/s/resolv.conf',
  mounts: [],
  cgroupNamespace: false,
};

type Spec = {
  process: { env: string[]; cwd: string; noNewPrivileges: boolean; capabilities: { bounding: string[] }; user: unknown; rlimits?: unknown };
  mounts: OciMount[];
  linux: { namespaces: { type: string }[]; cgroupsPath: string };
};

describe('mergeEnv', () => {
  test('adds the default PATH, keeps a given one, later values win in place', () => {
    expect(mergeEnv(['A=1'])).toEqual(['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'A=1']);
    expect(mergeEnv(['A=1', 'PATH=/x', 'B=2', 'A=3'])).toEqual(['PATH=/x', 'A=3', 'B=2']);
    expect(mergeEnv(['A=1', 'A'])).toEqual(['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin']);
  });
});

describe('generateSpec', () => {
  test('process: user, cwd, Docker capabilities, new privileges allowed, inherited rlimits', () => {
    const s = generateSpec(input) as unknown as Spec;
    expect(s.process.user).toEqual({ uid: 1, gid: 2, additionalGids: [2, 3] });
    expect(s.process.cwd).toBe('/app');
    expect(s.process.noNewPrivileges).toBe(false);
    expect(s.process.capabilities.bounding).toEqual(DEFAULT_CAPABILITIES);
    expect(s.process.capabilities.bounding).not.toContain('CAP_SYS_ADMIN');
    expect(s.process.rlimits).toBeUndefined();
    expect(s.linux.cgroupsPath).toBe('/kiln/kiln-x');
  });

  test('namespaces follow the network mode', () => {
    const none = generateSpec(input) as unknown as Spec;
    expect(none.linux.namespaces.map((n) => n.type)).toEqual(['pid', 'ipc', 'uts', 'mount', 'network']);
    const host = generateSpec({ ...input, network: 'host', cgroupNamespace: true }) as unknown as Spec;
    expect(host.linux.namespaces.map((n) => n.type)).toEqual(['pid', 'ipc', 'uts', 'mount', 'cgroup']);
  });

  test('mounts: defaults without /run, read-only hosts and resolv.conf, user mounts last and deduplicated', () => {
    const s = generateSpec({
      ...input,
      mounts: [
        { destination: 'cache', type: 'bind', source: '/host/cache' },
        { destination: '/dev/shm', type: 'tmpfs', readonly: true, options: ['size=1m'] },
      ],
    }) as unknown as Spec;
    const dests = s.mounts.map((m) => m.destination);
    expect(dests).toEqual(['/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue', '/sys', '/etc/resolv.conf', '/etc/hosts', '/sys/fs/cgroup', '/cache']);
    const byDest = Object.fromEntries(s.mounts.map((m) => [m.destination, m]));
    expect(byDest['/etc/hosts']).toEqual({ destination: '/etc/hosts', type: 'bind', source: '/s/hosts', options: ['nosuid', 'noexec', 'nodev', 'rbind', 'ro'] });
    expect(byDest['/dev/shm']).toEqual({ destination: '/dev/shm', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'ro', 'size=1m'] });
    expect(byDest['/cache']!.options).toEqual(['rbind', 'rw']);
    expect(byDest['/sys']!.options).toContain('ro');
  });
});

describe('hosts and resolv.conf', () => {
  test('hosts file as BuildKit writes it', () => {
    expect(hostsFileContent('buildkitsandbox')).toBe('127.0.0.1\tlocalhost buildkitsandbox\n::1\tlocalhost ip6-localhost ip6-loopback\n');
    expect(hostsFileContent('h', [{ host: 'a.b', ip: '::2' }])).toEndWith('::2\ta.b\n');
  });

  test('bad extra hosts are usage errors, not file injections', () => {
    expect(() => hostsFileContent('h', [{ host: 'a\n1.2.3.4 evil', ip: '1.1.1.1' }])).toThrow(KilnError);
    expect(() => hostsFileContent('h', [{ host: 'a', ip: 'not-an-ip' }])).toThrow(KilnError);
  });

  test('resolv.conf: host keeps the host file; none drops loopback resolvers', () => {
    const local = 'search example.com\nnameserver 127.0.0.53\noptions edns0\n';
    expect(resolvConfContent(local, 'host')).toBe(local);
    const none = resolvConfContent(local, 'none');
    expect(none).not.toContain('127.0.0.53');
    expect(none).toContain('search example.com');
    expect(none).toContain('nameserver 8.8.8.8');
    expect(resolvConfContent('nameserver 10.0.0.1\nnameserver ::1\n', 'none')).toBe('nameserver 10.0.0.1\n');
    expect(resolvConfContent('', 'host')).toContain('nameserver 8.8.8.8');
  });
});
