/**
 * The RUN step's environment from the build's flags: entitlements (--allow network.host,
 * security.insecure), --ulimit, --shm-size, and the runtime choice (--runtime, config file).
 */
import { describe, expect, test } from 'bun:test';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeContext, runKiln } from '../helpers/kiln.ts';
import { useBuildEnv } from '../helpers/build-env.ts';

const env = useBuildEnv();

async function build(dockerfile: string, extra: string[] = [], extraEnv: Record<string, string> = {}) {
  const ctx = await makeContext({ Dockerfile: dockerfile });
  try {
    const dest = join(env.out, `fs-${Math.random().toString(16).slice(2)}`);
    const r = await runKiln(['build', '--progress=plain', '-o', `type=local,dest=${dest}`, ...extra, ctx.dir], { root: env.state.root, env: extraEnv });
    return { r, read: (p: string) => readFile(join(dest, p), 'utf8').catch(() => undefined) };
  } finally {
    await ctx.cleanup();
  }
}
const ran = (s: string) => Number(/(\d+) steps run/.exec(s)?.[1]);

describe('entitlements', () => {
  test('RUN --network=host needs --allow network.host; the error names the line', async () => {
    const df = `FROM ${env.reg.ref}\nRUN --network=host echo host > /net\n`;
    const denied = await build(df);
    expect(denied.r.code).not.toBe(0);
    expect(denied.r.stderr).toContain('network.host is not allowed');
    expect(denied.r.stderr).toContain('Dockerfile:2');
    expect(denied.r.stderr).toContain('--allow network.host');
    const ok = await build(df, ['--allow', 'network.host']);
    expect(ok.r.code).toBe(0);
    expect(await ok.read('net')).toBe('host\n');
  });

  test('RUN --security=insecure needs --allow security.insecure and runs privileged', async () => {
    const df = [
      `FROM ${env.reg.ref}`,
      'RUN grep CapEff /proc/self/status > /sandbox-caps; mkdir -p /m && mount -t tmpfs none /m 2>/dev/null && echo yes > /sandbox-mount || echo no > /sandbox-mount',
      'RUN --security=insecure grep CapEff /proc/self/status > /caps && mkdir -p /m && mount -t tmpfs none /m && echo yes > /mount && umount /m && (touch /sys/kernel/x 2>&1 | grep -q "Read-only" && echo ro > /sys-rw || echo rw > /sys-rw)',
      '',
    ].join('\n');
    const denied = await build(df);
    expect(denied.r.code).not.toBe(0);
    expect(denied.r.stderr).toContain('security.insecure is not allowed');
    expect(denied.r.stderr).toContain('Dockerfile:3');
    const ok = await build(df, ['--allow', 'security.insecure']);
    if (ok.r.code !== 0) console.error(ok.r.stderr);
    expect(ok.r.code).toBe(0);
    // every capability kiln holds (on a full host: all the kernel knows)
    const own = /^CapEff:\s*([0-9a-f]+)$/m.exec(await readFile('/proc/self/status', 'utf8'))?.[1];
    expect(await ok.read('caps')).toBe(`CapEff:\t${own}\n`);
    expect(await ok.read('sandbox-caps')).toBe('CapEff:\t00000000a80425fb\n');
    expect(await ok.read('mount')).toBe('yes\n');
    expect(await ok.read('sandbox-mount')).toBe('no\n');
    expect(await ok.read('sys-rw')).toBe('rw\n');
  });

  test('an unknown entitlement is a usage error', async () => {
    const r = await runKiln(['build', '--allow', 'network.everything', '.'], { root: env.state.root });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('invalid entitlement "network.everything"');
  });
});

describe('resource limits', () => {
  test('--ulimit sets soft and hard limits; changing it keeps the cache', async () => {
    const df = `FROM ${env.reg.ref}\nRUN ulimit -n > /soft && ulimit -Hn > /hard\n`;
    const a = await build(df, ['--ulimit', 'nofile=512:1024']);
    if (a.r.code !== 0) console.error(a.r.stderr);
    expect(a.r.code).toBe(0);
    expect(await a.read('soft')).toBe('512\n');
    expect(await a.read('hard')).toBe('1024\n');
    const b = await build(df, ['--ulimit', 'nofile=256:2048']);
    expect(b.r.code).toBe(0);
    expect(ran(b.r.stderr)).toBe(0);
    const u = await build(`FROM ${env.reg.ref}\nRUN ulimit -Hc > /core\n`, ['--ulimit', 'core=-1']);
    expect(await u.read('core')).toBe('unlimited\n');
    for (const [bad, msg] of [['nofiles=1', 'invalid ulimit type: nofiles'], ['nofile=10:5', 'soft limit must be less than or equal to hard limit: 10 > 5'], ['nofile', 'invalid ulimit argument']]) {
      const r = await build(df, ['--ulimit', bad!]);
      expect(r.r.code).toBe(2);
      expect(r.r.stderr).toContain(msg!);
    }
  });

  test('--shm-size sizes /dev/shm (default 64 MiB)', async () => {
    const df = `FROM ${env.reg.ref}\nRUN df -k /dev/shm | tail -1 | awk '{print $2}' > /shm\n`;
    const def = await build(df);
    expect(await def.read('shm')).toBe('65536\n');
    const big = await build(df, ['--shm-size', '16m', '--no-cache']);
    expect(big.r.code).toBe(0);
    expect(await big.read('shm')).toBe('16384\n');
  });
});

describe('the step environment', () => {
  test('USER by name with supplementary groups, hostname, resolv.conf, a missing user', async () => {
    const { r, read } = await build([
      `FROM ${env.reg.ref}`,
      'RUN echo "app:x:1001:1001::/home/app:/bin/sh" >> /etc/passwd && echo "app:x:1001:" >> /etc/group && echo "extra:x:2000:app" >> /etc/group',
      'USER app',
      'RUN id > /tmp/id && hostname > /tmp/host && cat /etc/resolv.conf > /tmp/resolv',
      '',
    ].join('\n'));
    if (r.code !== 0) console.error(r.stderr);
    expect(r.code).toBe(0);
    expect(await read('tmp/id')).toBe('uid=1001(app) gid=1001(app) groups=1001(app),2000(extra)\n');
    expect(await read('tmp/host')).toBe('buildkitsandbox\n');
    const hostResolv = (await readFile('/etc/resolv.conf', 'utf8').catch(() => '')).split('\n').filter((l) => /^nameserver\s+(?!127\.)/.test(l));
    for (const ns of hostResolv) expect(await read('tmp/resolv')).toContain(ns);
    const missing = await build(`FROM ${env.reg.ref}\nUSER ghost\nRUN true\n`);
    expect(missing.r.code).not.toBe(0);
    expect(missing.r.stderr).toContain('unable to find user ghost: no matching entries in passwd file');
  });
});

describe('runtime selection', () => {
  test('--runtime crun (or the config file) runs crun: it works, or fails naming crun with a hint', async () => {
    const df = `FROM ${env.reg.ref}\nRUN echo by-crun > /who\n`;
    const r = await build(df, ['--runtime', 'crun', '--no-cache']);
    if (r.r.code === 0) expect(await r.read('who')).toBe('by-crun\n');
    else {
      // crun 1.8 refuses hybrid cgroup v1/v2 hosts: the error says so and names the way out.
      expect(r.r.stderr).toMatch(/crun/);
      expect(r.r.stderr).toContain('use runc');
    }
    const cfg = join(env.out, 'crun.toml');
    await writeFile(cfg, 'runtime = "crun"\n');
    const viaConfig = await build(df, ['--config', cfg, '--no-cache']);
    expect(viaConfig.r.code).toBe(r.r.code);
  });
});
