import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { runContainer } from '../../src/executor/index.ts';
import type { RunOptions } from '../../src/executor/index.ts';
import { KilnError } from '../../src/util/errors.ts';
import { makeTempDir, removeAll } from '../../src/util/fs.ts';
import { leftovers, makeBusyboxRootfs, mountsUnder, runtimeList } from './rootfs.ts';

let base = '';
let stateDir = '';

beforeAll(async () => {
  base = await makeTempDir('kiln-exec-test-');
  stateDir = join(base, 'state');
});

afterEach(async () => {
  expect(runtimeList(stateDir)).toEqual([]);
  expect(await leftovers(stateDir)).toEqual([]);
  expect(await mountsUnder(base)).toEqual([]);
});

afterAll(async () => {
  await removeAll(base);
});

interface Ran { exitCode: number; stdout: string; stderr: string }

/** Runs in a fresh busybox rootfs (or `rootfs`), collecting output as text. */
async function run(args: string[], opts: Partial<RunOptions> = {}): Promise<Ran> {
  const rootfs = opts.rootfs ?? (await makeBusyboxRootfs(base));
  let stdout = '';
  let stderr = '';
  const dec = { stdout: new TextDecoder(), stderr: new TextDecoder() };
  const { exitCode } = await runContainer({
    rootfs,
    args,
    env: [],
    cwd: '/',
    user: '',
    network: 'none',
    stateDir,
    ...opts,
    onOutput(stream, chunk) {
      opts.onOutput?.(stream, chunk);
      if (stream === 'stdout') stdout += dec.stdout.decode(chunk, { stream: true });
      else stderr += dec.stderr.decode(chunk, { stream: true });
    },
  });
  return { exitCode, stdout, stderr };
}

const sh = (script: string, opts: Partial<RunOptions> = {}) => run(['/bin/sh', '-c', script], opts);

describe('process', () => {
  test('exit codes', async () => {
    expect((await sh('exit 0')).exitCode).toBe(0);
    expect((await sh('exit 3')).exitCode).toBe(3);
    expect((await sh('exit 255')).exitCode).toBe(255);
  });

  test('stdout and stderr are captured separately', async () => {
    const r = await sh('echo out; echo err >&2; echo out2');
    expect(r.stdout).toBe('out\nout2\n');
    expect(r.stderr).toBe('err\n');
  });

  test('args are not run through a shell', async () => {
    const r = await run(['echo', '$HOME', '*', 'a;b']);
    expect(r.stdout).toBe('$HOME * a;b\n');
  });

  test('env is passed and PATH gets the default when absent', async () => {
    const r = await run(['env'], { env: ['FOO=bar baz', 'EMPTY='] });
    const env = r.stdout.trim().split('\n');
    expect(env).toContain('FOO=bar baz');
    expect(env).toContain('EMPTY=');
    expect(env).toContain('PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
    const custom = await run(['/bin/env'], { env: ['PATH=/opt/bin:/bin'] });
    expect(custom.stdout.trim().split('\n')).toContain('PATH=/opt/bin:/bin');
    expect(custom.stdout).not.toContain('/usr/local/sbin');
  });

  test('cwd is created, owned by the user', async () => {
    const rootfs = await makeBusyboxRootfs(base);
    const r = await run(['pwd'], { rootfs, cwd: '/home/alice/work', user: 'alice' });
    expect(r.stdout).toBe('/home/alice/work\n');
    for (const p of ['home', 'home/alice', 'home/alice/work']) {
      const st = await stat(join(rootfs, p));
      expect([st.uid, st.gid, st.mode & 0o777]).toEqual([1000, 1000, 0o755]);
    }
  });

  test('cwd through a symlink is created at the link target, inside the rootfs', async () => {
    const rootfs = await makeBusyboxRootfs(base);
    await symlink('/var/lib', join(rootfs, 'app'));
    const r = await sh('pwd; touch here', { rootfs, cwd: '/app/x' });
    expect(r.exitCode).toBe(0);
    expect(existsSync(join(rootfs, 'var/lib/x/here'))).toBe(true);
  });

  test('a rootfs without /etc gets no /etc left behind', async () => {
    const rootfs = await makeBusyboxRootfs(base);
    await rm(join(rootfs, 'etc'), { recursive: true });
    expect((await run(['cat', '/etc/hosts'], { rootfs })).stdout).toStartWith('127.0.0.1\tlocalhost');
    expect(existsSync(join(rootfs, 'etc'))).toBe(false);
  });

  test('an existing cwd is kept as it is', async () => {
    const rootfs = await makeBusyboxRootfs(base);
    await mkdir(join(rootfs, 'srv'), { mode: 0o700 });
    const r = await run(['pwd'], { rootfs, cwd: '/srv', user: '1000' });
    expect(r.exitCode).toBe(0);
    const st = await stat(join(rootfs, 'srv'));
    expect([st.uid, st.mode & 0o777]).toEqual([0, 0o700]);
  });
});

describe('user', () => {
  const ids = (user: string) => sh('echo "$(id -u) $(id -g) $(id -G)"', { user });

  test('root by default', async () => {
    expect((await ids('')).stdout).toBe('0 0 0\n');
  });

  test('by numeric id, with the passwd gid and supplementary groups', async () => {
    expect((await ids('1001')).stdout).toBe('1001 1001 1001 50\n');
  });

  test('by name, with supplementary groups', async () => {
    expect((await ids('alice')).stdout).toBe('1000 1000 1000 29 50\n');
  });

  test('name:group sets the group and no supplementary groups', async () => {
    expect((await ids('alice:staff')).stdout).toBe('1000 50 50\n');
  });

  test('uid:gid and ids unknown to passwd', async () => {
    expect((await ids('1000:29')).stdout).toBe('1000 29 29\n');
    expect((await ids('4242')).stdout).toBe('4242 0 0\n');
  });

  test('unknown user fails with BuildKit\'s message and runs nothing', async () => {
    const err = await sh('echo should-not-run', { user: 'mallory' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KilnError);
    expect((err as KilnError).message).toBe('unable to find user mallory: no matching entries in passwd file');
  });
});

describe('container environment', () => {
  test('hostname defaults to buildkitsandbox and can be set', async () => {
    expect((await run(['hostname'])).stdout).toBe('buildkitsandbox\n');
    expect((await run(['hostname'], { hostname: 'builder-1' })).stdout).toBe('builder-1\n');
  });

  test('/etc/hosts and resolv.conf are present, read-only, and not left in the rootfs', async () => {
    const rootfs = await makeBusyboxRootfs(base);
    const r = await sh('cat /etc/hosts; echo ---; cat /etc/resolv.conf; echo ---; echo x >> /etc/hosts && echo writable', {
      rootfs,
      extraHosts: [{ host: 'registry.local', ip: '10.1.2.3' }],
    });
    const [hosts, resolv, rest] = r.stdout.split('---\n');
    expect(hosts).toBe('127.0.0.1\tlocalhost buildkitsandbox\n::1\tlocalhost ip6-localhost ip6-loopback\n10.1.2.3\tregistry.local\n');
    expect(resolv).toMatch(/^nameserver /m);
    expect(rest).not.toContain('writable');
    expect(existsSync(join(rootfs, 'etc/hosts'))).toBe(false);
    expect(existsSync(join(rootfs, 'etc/resolv.conf'))).toBe(false);
  });

  test('an /etc/hosts of the rootfs is hidden during the run and unchanged afterwards', async () => {
    const rootfs = await makeBusyboxRootfs(base);
    await writeFile(join(rootfs, 'etc/hosts'), 'from-image\n');
    const r = await run(['cat', '/etc/hosts'], { rootfs, hostname: 'h2' });
    expect(r.stdout).toStartWith('127.0.0.1\tlocalhost h2\n');
    expect(await readFile(join(rootfs, 'etc/hosts'), 'utf8')).toBe('from-image\n');
  });

  test('namespaces: the process is pid 1 and sees a read-only /sys and masked paths', async () => {
    const r = await sh('echo $$; touch /sys/x 2>/dev/null || echo sys-ro; cat /proc/kcore | wc -c');
    expect(r.stdout).toBe('1\nsys-ro\n0\n');
  });
});

describe('network', () => {
  let server: Server;
  let port = 0;
  beforeAll(async () => {
    server = createServer((sock) => sock.end('pong\n'));
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    port = (server.address() as { port: number }).port;
  });
  afterAll(async () => {
    await new Promise<void>((res) => server.close(() => res()));
  });

  test('none: only lo, and it is up', async () => {
    const r = await sh('ls /sys/class/net; ip link show lo');
    expect(r.stdout.split('\n')[0]).toBe('lo');
    expect(r.stdout).toContain('UP');
    expect(r.stdout).toMatch(/<[^>]*\bUP\b/);
  });

  test('none: cannot reach a server on the host loopback', async () => {
    const r = await sh(`nc -w 3 127.0.0.1 ${port} </dev/null && echo connected || echo failed`);
    expect(r.stdout).toContain('failed');
    expect(r.stdout).not.toContain('pong');
  });

  test('host: reaches a server on the host loopback', async () => {
    const r = await sh(`nc -w 3 127.0.0.1 ${port} </dev/null`, { network: 'host' });
    expect(r.stdout).toBe('pong\n');
  });
});

describe('mounts', () => {
  test('bind mounts, read-write and read-only', async () => {
    const rootfs = await makeBusyboxRootfs(base);
    const shared = await makeTempDir('shared-', base);
    await writeFile(join(shared, 'in.txt'), 'hello\n');
    const r = await sh('cat /data/in.txt; echo out > /data/out.txt; cat /ro/in.txt; echo x > /ro/no 2>/dev/null || echo ro-denied', {
      rootfs,
      mounts: [
        { destination: '/data', type: 'bind', source: shared },
        { destination: '/ro', type: 'bind', source: shared, readonly: true },
      ],
    });
    expect(r.stdout).toBe('hello\nhello\nro-denied\n');
    expect(await readFile(join(shared, 'out.txt'), 'utf8')).toBe('out\n');
    // the mount points were stubs created for the run: gone again
    expect(existsSync(join(rootfs, 'data'))).toBe(false);
    expect(existsSync(join(rootfs, 'ro'))).toBe(false);
  });

  test('tmpfs: writable, empty, and nothing reaches the rootfs', async () => {
    const rootfs = await makeBusyboxRootfs(base);
    await mkdir(join(rootfs, 'scratch'));
    const r = await sh('echo x > /scratch/file && grep " /scratch " /proc/mounts', {
      rootfs,
      mounts: [{ destination: '/scratch', type: 'tmpfs', options: ['size=1m'] }],
    });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toStartWith('tmpfs /scratch tmpfs');
    expect(existsSync(join(rootfs, 'scratch/file'))).toBe(false);
    expect(existsSync(join(rootfs, 'scratch'))).toBe(true);
  });
});

describe('abort and failures', () => {
  test('abort kills a sleeping container fast and rejects as canceled', async () => {
    const ac = new AbortController();
    const started = Date.now();
    let output = '';
    const p = sh('echo started; sleep 30', {
      signal: ac.signal,
      onOutput: (_s, c) => {
        output += new TextDecoder().decode(c);
      },
    });
    // abort once the process has really started
    while (!output.includes('started') && Date.now() - started < 10_000) await Bun.sleep(20);
    ac.abort();
    const err = await p.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KilnError);
    expect((err as KilnError).kind).toBe('canceled');
    expect(Date.now() - started).toBeLessThan(8_000);
  }, 20_000);

  test('abort right after the call still cleans up', async () => {
    const ac = new AbortController();
    const p = sh('sleep 30', { signal: ac.signal });
    setTimeout(() => ac.abort(), 5);
    const err = await p.catch((e: unknown) => e);
    expect((err as KilnError).kind).toBe('canceled');
  });

  test('an already aborted signal runs nothing', async () => {
    const ac = new AbortController();
    ac.abort();
    const err = await sh('exit 0', { signal: ac.signal }).catch((e: unknown) => e);
    expect((err as KilnError).kind).toBe('canceled');
  });

  test('an exception from onOutput stops the container and is rethrown', async () => {
    const started = Date.now();
    const err = await sh('echo boom; sleep 30', {
      onOutput: () => {
        throw new Error('consumer failed');
      },
    }).catch((e: unknown) => e);
    expect((err as Error).message).toBe('consumer failed');
    expect(Date.now() - started).toBeLessThan(8_000);
  }, 20_000);

  test('a runtime failure is a KilnError naming the runtime', async () => {
    const err = await run(['/no/such/binary']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KilnError);
    expect((err as KilnError).kind).toBe('runtime');
    expect((err as KilnError).message).toContain('runc');
    expect((err as KilnError).message).toContain('/no/such/binary');
  });

  test('crun either works or fails with a clear error', async () => {
    const crunState = join(base, 'crun-state');
    try {
      const r = await run(['echo', 'hi'], { runtime: 'crun', stateDir: crunState });
      expect(r.stdout).toBe('hi\n');
    } catch (err) {
      expect(err).toBeInstanceOf(KilnError);
      expect((err as KilnError).message).toStartWith('crun');
    }
    expect(runtimeList(crunState, 'crun')).toEqual([]);
    expect(await leftovers(crunState)).toEqual([]);
  });
});
