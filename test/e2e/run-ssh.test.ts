/**
 * RUN --mount=type=ssh for real: a real ssh-agent forwarded with `--ssh default`, key files
 * with `--ssh ID=FILE`, and the host's own `ssh-add` (copied into the image with its libraries)
 * listing the keys through the socket inside the container.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { copyFile, mkdir, readFile, readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { withBusyboxRegistry, type BusyboxRegistry } from '../helpers/busybox-image.ts';
import { makeContext, runKiln, tempStateDir } from '../helpers/kiln.ts';
import { makeTempDir, removeAll } from '../../src/util/fs.ts';

let reg: BusyboxRegistry;
let state: Awaited<ReturnType<typeof tempStateDir>>;
let work: string;
let agentSock: string;
let agentPid = 0;
let keyFile: string;
beforeAll(async () => {
  reg = await withBusyboxRegistry();
  state = await tempStateDir();
  work = await makeTempDir('kiln-ssh-e2e-');
  agentSock = join(work, 'agent.sock');
  const agent = spawnSync('ssh-agent', ['-a', agentSock, '-s'], { encoding: 'utf8' });
  agentPid = Number(/SSH_AGENT_PID=(\d+)/.exec(agent.stdout)?.[1] ?? 0);
  const agentKey = join(work, 'agent-key');
  spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'in-the-agent', '-f', agentKey]);
  spawnSync('ssh-add', [agentKey], { env: { ...process.env, SSH_AUTH_SOCK: agentSock } });
  keyFile = join(work, 'deploy-key');
  spawnSync('ssh-keygen', ['-q', '-t', 'ecdsa', '-N', '', '-C', 'deploy', '-f', keyFile]);
});
afterAll(async () => {
  if (agentPid) {
    // wait for the agent to exit (it removes its socket) before the temp dir goes
    process.kill(agentPid);
    for (let i = 0; i < 100; i++) {
      try {
        process.kill(agentPid, 0);
      } catch {
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  await reg.stop();
  await state.cleanup();
  await removeAll(work);
});

/** A context holding `sysroot/`: the host's ssh-add and the shared libraries it loads. */
async function contextWithSshAdd(dockerfile: string) {
  const ctx = await makeContext({ Dockerfile: dockerfile });
  const ldd = spawnSync('ldd', ['/usr/bin/ssh-add'], { encoding: 'utf8' }).stdout;
  const files = ['/usr/bin/ssh-add', ...[...ldd.matchAll(/(\/\S+) \(0x/g)].map((m) => m[1]!)];
  for (const f of files) {
    const dest = join(ctx.dir, 'sysroot', f);
    await mkdir(dirname(dest), { recursive: true });
    await copyFile(f, dest);
  }
  return ctx;
}

async function build(dockerfile: string, extra: string[], env: Record<string, string> = {}) {
  const ctx = await contextWithSshAdd(dockerfile);
  const dest = join(work, `fs-${Math.random().toString(16).slice(2)}`);
  try {
    const r = await runKiln(['build', '--progress=plain', '-o', `type=local,dest=${dest}`, ...extra, ctx.dir], { root: state.root, env });
    return { r, dest, read: (p: string) => readFile(join(dest, p), 'utf8').catch(() => undefined) };
  } finally {
    await ctx.cleanup();
  }
}

describe('RUN --mount=type=ssh', () => {
  test('--ssh default forwards $SSH_AUTH_SOCK: ssh-add in the step lists the agent\'s key', async () => {
    const { r, dest, read } = await build(
      [
        `FROM ${reg.ref}`,
        'COPY sysroot/ /',
        'RUN --mount=type=ssh echo "$SSH_AUTH_SOCK" > /sock && ssh-add -l > /keys && (ssh-add -D 2>/dev/null; echo $? > /remove-all)',
        'RUN test -e /run/buildkit/ssh_agent.0 && echo present > /after || echo absent > /after',
        '',
      ].join('\n'),
      ['--ssh', 'default'],
      { SSH_AUTH_SOCK: agentSock },
    );
    if (r.code !== 0) console.error(r.stderr);
    expect(r.code).toBe(0);
    expect(await read('sock')).toBe('/run/buildkit/ssh_agent.0\n');
    expect(await read('keys')).toContain('in-the-agent (ED25519)');
    expect(await read('remove-all')).not.toBe('0\n'); // read-only: removing keys is refused
    expect(await read('after')).toBe('absent\n');
    expect(await readdir(join(dest, 'run')).catch(() => [])).not.toContain('buildkit');
    // the real agent still holds its key
    expect(spawnSync('ssh-add', ['-l'], { env: { ...process.env, SSH_AUTH_SOCK: agentSock }, encoding: 'utf8' }).stdout).toContain('in-the-agent');
  });

  test('--ssh ID=KEYFILE with id, target, mode, uid and gid; two agents in one step', async () => {
    const { r, read } = await build(
      [
        `FROM ${reg.ref}`,
        'COPY sysroot/ /',
        'RUN --mount=type=ssh,id=deploy,target=/agent.sock,mode=0640,uid=1000,gid=2000 --mount=type=ssh,id=fwd \\',
        '    stat -c "%a %u %g" /agent.sock > /perm && echo "$SSH_AUTH_SOCK" > /sock && ssh-add -l > /keys && SSH_AUTH_SOCK=/run/buildkit/ssh_agent.1 ssh-add -l > /keys2',
        '',
      ].join('\n'),
      ['--ssh', `deploy=${keyFile}`, '--ssh', `fwd=${agentSock}`],
    );
    if (r.code !== 0) console.error(r.stderr);
    expect(r.code).toBe(0);
    expect(await read('perm')).toBe('640 1000 2000\n');
    expect(await read('sock')).toBe('/agent.sock\n');
    expect(await read('keys')).toContain('deploy-key (ECDSA)');
    expect(await read('keys2')).toContain('in-the-agent (ED25519)');
  });

  test('required without --ssh fails naming the id; optional runs without a socket', async () => {
    const failed = await build(`FROM ${reg.ref}\nRUN --mount=type=ssh,id=gh,required ls\n`, []);
    expect(failed.r.code).not.toBe(0);
    expect(failed.r.stderr).toContain('no SSH key "gh" forwarded from the client');
    const ok = await build(`FROM ${reg.ref}\nRUN --mount=type=ssh test -S /run/buildkit/ssh_agent.0 && echo yes > /s || echo no > /s\n`, []);
    expect(ok.r.code).toBe(0);
    expect(await ok.read('s')).toBe('no\n');
    const bad = await build(`FROM ${reg.ref}\nRUN --mount=type=ssh,source=/x ls\n`, []);
    expect(bad.r.code).not.toBe(0);
    expect(bad.r.stderr).toContain('ssh does not support source');
    expect(bad.r.stderr).toContain('Dockerfile:2');
  });
});
