/**
 * kiln's read-only ssh-agent, checked with OpenSSH's own tools: keys read from files (every
 * supported type and format) are listed as `ssh-keygen -y` prints them and sign what
 * `ssh-keygen -Y check-novalidate` accepts; a forwarded agent lists its keys but refuses
 * additions and removals.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { listenAgent, type SshSource } from '../../src/executor/ssh/agent-socket.ts';
import { parsePrivateKey } from '../../src/executor/ssh/private-key.ts';
import { loadSshSources } from '../../src/cli/ssh-sources.ts';
import { makeTempDir, removeAll } from '../../src/util/fs.ts';

let dir: string;
beforeAll(async () => {
  dir = await makeTempDir('kiln-ssh-test-');
});
afterAll(async () => {
  await removeAll(dir);
});

const run = (cmd: string, args: string[], env: Record<string, string> = {}, input?: string) =>
  spawnSync(cmd, args, { env: { ...process.env, ...env }, encoding: 'utf8', input });

function keygen(name: string, args: string[]): string {
  const file = join(dir, name);
  const r = run('ssh-keygen', ['-q', '-N', '', '-C', `${name}@test`, '-f', file, ...args]);
  expect(r.status).toBe(0);
  return file;
}

async function withAgent<T>(source: SshSource, fn: (sock: string) => Promise<T> | T): Promise<T> {
  const sock = join(dir, `agent-${Math.random().toString(16).slice(2)}.sock`);
  const agent = await listenAgent(sock, source);
  try {
    // spawnSync blocks this thread: the agent must answer from elsewhere, so clients run async.
    return await fn(sock);
  } finally {
    await agent.close();
  }
}

/** Runs a command without blocking the event loop (the agent under test lives on it). */
function runAsync(cmd: string, args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(cmd, args, { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d: Buffer) => (stdout += d));
    c.stderr.on('data', (d: Buffer) => (stderr += d));
    c.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** Kills `pid` and waits until it is gone (ssh-agent removes its socket as it exits). */
async function stopProcess(pid: number): Promise<void> {
  process.kill(pid);
  for (let i = 0; i < 100; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

const KEYS: [string, string[]][] = [
  ['ed25519', ['-t', 'ed25519']],
  ['rsa', ['-t', 'rsa', '-b', '2048']],
  ['rsa-pem', ['-t', 'rsa', '-b', '2048', '-m', 'PEM']],
  ['ecdsa256', ['-t', 'ecdsa', '-b', '256']],
  ['ecdsa384', ['-t', 'ecdsa', '-b', '384']],
  ['ecdsa521-pkcs8', ['-t', 'ecdsa', '-b', '521', '-m', 'PKCS8']],
];

describe('ssh agent from key files', () => {
  for (const [name, args] of KEYS) {
    test(`${name}: listed as ssh-keygen -y prints it, and signs verifiably`, async () => {
      const file = keygen(name, args);
      const key = parsePrivateKey(readFileSync(file, 'utf8'), name);
      const pub = run('ssh-keygen', ['-y', '-f', file]).stdout.trim().split(' ').slice(0, 2).join(' ');
      await withAgent({ kind: 'keys', keys: [key] }, async (sock) => {
        const listed = await runAsync('ssh-add', ['-L'], { SSH_AUTH_SOCK: sock });
        expect(listed.code).toBe(0);
        expect(listed.stdout.trim()).toBe(`${pub} ${name}`);
        const data = join(dir, `${name}.data`);
        writeFileSync(data, `signed by ${name}\n`);
        writeFileSync(`${file}.only.pub`, `${pub}\n`);
        const signed = await runAsync('ssh-keygen', ['-Y', 'sign', '-f', `${file}.only.pub`, '-n', 'file', data], { SSH_AUTH_SOCK: sock });
        expect(signed.stderr).not.toContain('agent refused');
        expect(signed.code).toBe(0);
        const check = run('ssh-keygen', ['-Y', 'check-novalidate', '-n', 'file', '-s', `${data}.sig`], {}, readFileSync(data, 'utf8'));
        expect(check.stdout).toContain('Good "file" signature');
      });
    });
  }

  test('a passphrase-protected key is refused with a clear message', async () => {
    const file = join(dir, 'locked');
    expect(run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'secret-pass', '-f', file]).status).toBe(0);
    await expect(loadSshSources([`k=${file}`])).rejects.toThrow(/protected by a passphrase/);
    await expect(loadSshSources(['k=/nonexistent/key'])).rejects.toThrow(/does not exist/);
    await expect(loadSshSources(['default'], {})).rejects.toThrow(/SSH_AUTH_SOCK is not set/);
    await expect(loadSshSources([`a=${join(dir, 'ed25519')}`, `a=${join(dir, 'rsa')}`])).rejects.toThrow(/duplicate agent ID "a"/);
  });
});

describe('forwarded agent', () => {
  test('lists and signs through a real ssh-agent, refuses to add or remove keys', async () => {
    const agentSock = join(dir, 'real-agent.sock');
    const agent = spawnSync('ssh-agent', ['-a', agentSock, '-s'], { encoding: 'utf8' });
    expect(agent.status).toBe(0);
    const pid = Number(/SSH_AGENT_PID=(\d+)/.exec(agent.stdout)?.[1]);
    try {
      const file = keygen('fwd', ['-t', 'ed25519']);
      expect(run('ssh-add', [file], { SSH_AUTH_SOCK: agentSock }).status).toBe(0);
      const [source] = (await loadSshSources([`default=${agentSock}`])).values();
      expect(source?.kind).toBe('socket');
      await withAgent(source!, async (sock) => {
        const listed = await runAsync('ssh-add', ['-l'], { SSH_AUTH_SOCK: sock });
        expect(listed.stdout).toContain('fwd@test (ED25519)');
        const other = keygen('other', ['-t', 'ed25519']);
        const add = await runAsync('ssh-add', [other], { SSH_AUTH_SOCK: sock });
        expect(add.code).not.toBe(0);
        const del = await runAsync('ssh-add', ['-D'], { SSH_AUTH_SOCK: sock });
        expect(del.code).not.toBe(0);
      });
      // nothing changed in the real agent
      expect(run('ssh-add', ['-l'], { SSH_AUTH_SOCK: agentSock }).stdout).toContain('fwd@test (ED25519)');
    } finally {
      if (pid) await stopProcess(pid);
    }
  });
});
