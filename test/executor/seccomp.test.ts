/** The default seccomp profile, evaluated as moby/profiles' setupSeccomp does. */
import { describe, expect, test } from 'bun:test';
import { seccompFor } from '../../src/executor/seccomp.ts';
import { DEFAULT_SECCOMP_PROFILE } from '../../src/executor/seccomp-profile.ts';
import { DEFAULT_CAPABILITIES, generateSpec } from '../../src/executor/spec.ts';

const names = (p: ReturnType<typeof seccompFor>, action = 'SCMP_ACT_ALLOW') => new Set(p.syscalls.filter((s) => s.action === action && !s.args).flatMap((s) => s.names));

describe('seccomp', () => {
  test('amd64 with the default capabilities: errno by default, x86 and x32 as sub-architectures', () => {
    const p = seccompFor(DEFAULT_SECCOMP_PROFILE, { arch: 'x64', capabilities: DEFAULT_CAPABILITIES, kernel: [6, 1] });
    expect(p.defaultAction).toBe('SCMP_ACT_ERRNO');
    expect(p.defaultErrnoRet).toBe(1);
    expect(p.architectures).toEqual(['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
    const allowed = names(p);
    for (const s of ['read', 'write', 'openat', 'execve', 'wait4', 'getpid']) expect(allowed.has(s)).toBe(true);
    for (const s of ['add_key', 'keyctl', 'request_key', 'unshare', 'mount', 'kexec_load', 'bpf', 'setns']) expect(allowed.has(s)).toBe(false);
    expect(allowed.has('ptrace')).toBe(true); // allowed from kernel 4.8, as in moby
    // clone3 says ENOSYS without CAP_SYS_ADMIN, so that libc falls back to clone (which filters its flags)
    expect(p.syscalls.find((s) => s.names.includes('clone3'))).toMatchObject({ action: 'SCMP_ACT_ERRNO', errnoRet: 38 });
  });

  test('capabilities, architectures and kernel versions choose rules', () => {
    const admin = seccompFor(DEFAULT_SECCOMP_PROFILE, { arch: 'x64', capabilities: [...DEFAULT_CAPABILITIES, 'CAP_SYS_ADMIN'], kernel: [6, 1] });
    expect(names(admin).has('mount')).toBe(true);
    expect(names(admin).has('unshare')).toBe(true);
    const old = seccompFor(DEFAULT_SECCOMP_PROFILE, { arch: 'x64', capabilities: DEFAULT_CAPABILITIES, kernel: [4, 4] });
    expect(names(old).has('ptrace')).toBe(false);
    const arm = seccompFor(DEFAULT_SECCOMP_PROFILE, { arch: 'arm64', capabilities: DEFAULT_CAPABILITIES, kernel: [6, 1] });
    expect(arm.architectures).toEqual(['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
    expect(names(arm).has('arch_prctl')).toBe(false); // an x86-only rule
    expect(names(seccompFor(DEFAULT_SECCOMP_PROFILE, { arch: 'x64', capabilities: DEFAULT_CAPABILITIES, kernel: [6, 1] })).has('arch_prctl')).toBe(true);
  });

  test('a RUN spec carries the profile; --security=insecure does not', () => {
    const base = { id: 'x', rootfs: '/r', args: ['true'], env: [], cwd: '/', user: { uid: 0, gid: 0, additionalGids: [] }, hostname: 'h', network: 'none' as const, hostsFile: '/h', resolvConf: '/r', mounts: [], cgroupNamespace: false };
    expect((generateSpec(base).linux as { seccomp?: unknown }).seccomp).toBeDefined();
    expect((generateSpec({ ...base, privileged: { capabilities: [], devices: [] } }).linux as { seccomp?: unknown }).seccomp).toBeUndefined();
  });
});
