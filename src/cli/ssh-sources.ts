import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { SshSource } from '../executor/ssh/agent-socket.ts';
import { parsePrivateKey, type AgentKey } from '../executor/ssh/private-key.ts';
import { usageError } from '../util/errors.ts';

/**
 * `--ssh default|ID[=SOCKET|KEYFILE[,KEYFILE...]]`, as buildx and buildctl read it: no path
 * means the agent at $SSH_AUTH_SOCK; a socket is forwarded (read-only); key files are served by
 * an in-process agent. Everything is checked here, before the build starts.
 */
export async function loadSshSources(specs: string[], env: NodeJS.ProcessEnv = process.env): Promise<Map<string, SshSource>> {
  const out = new Map<string, SshSource>();
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    const id = (eq < 0 ? spec : spec.slice(0, eq)).trim() || 'default';
    let paths = eq < 0 ? [] : spec.slice(eq + 1).split(',').filter((p) => p !== '');
    if (out.has(id)) throw usageError(`--ssh: duplicate agent ID "${id}"`);
    if (paths.length === 0) {
      const sock = env.SSH_AUTH_SOCK;
      if (!sock) throw usageError(`--ssh ${spec}: SSH_AUTH_SOCK is not set`, 'start an agent (eval $(ssh-agent); ssh-add) or pass --ssh ID=SOCKET|KEYFILE');
      paths = [sock];
    }
    const keys: AgentKey[] = [];
    let socket: string | undefined;
    for (const p of paths) {
      const st = await stat(p).catch(() => undefined);
      if (!st) throw usageError(`--ssh ${id}: ${p} does not exist`);
      if (st.isSocket()) {
        if (socket) throw usageError(`--ssh ${id}: only one socket allowed`);
        socket = p;
        continue;
      }
      const text = await readFile(p, 'utf8').catch(() => {
        throw usageError(`--ssh ${id}: cannot read ${p}`);
      });
      try {
        keys.push(parsePrivateKey(text, basename(p)));
      } catch (err) {
        throw usageError(`--ssh ${id}: ${p}: ${(err as Error).message}`);
      }
    }
    if (socket && keys.length > 0) throw usageError(`--ssh ${id}: give an agent socket or key files, not both`);
    out.set(id, socket ? { kind: 'socket', path: socket } : { kind: 'keys', keys });
  }
  return out;
}
