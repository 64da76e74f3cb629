/**
 * The socket a RUN step's `--mount=type=ssh` sees: a read-only ssh-agent. Listing identities and
 * signing are answered, by the user's agent (a forwarded socket) or by keys kiln read from files;
 * every other request (add, remove, lock, extensions) gets SSH_AGENT_FAILURE, as BuildKit's
 * read-only agent refuses them. Keys and the agent's socket never leave this process.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AgentKey } from './private-key.ts';
import { concat, str, u32, WireReader } from './wire.ts';

/** Where an ssh id's agent comes from (`--ssh ID=SOCKET|KEYFILE[,KEYFILE]`). */
export type SshSource = { kind: 'socket'; path: string } | { kind: 'keys'; keys: AgentKey[] };

const FAILURE = 5;
const REQUEST_IDENTITIES = 11;
const IDENTITIES_ANSWER = 12;
const SIGN_REQUEST = 13;
const SIGN_RESPONSE = 14;
const MAX_MESSAGE = 256 * 1024;

const frame = (payload: Uint8Array) => concat(u32(payload.byteLength), payload);
const failure = () => new Uint8Array([FAILURE]);

/** Splits a byte stream into agent messages (uint32 length + payload). */
class Framer {
  #buf: Uint8Array = new Uint8Array(0);
  push(chunk: Uint8Array): Uint8Array[] {
    this.#buf = concat(this.#buf, chunk);
    const out: Uint8Array[] = [];
    while (this.#buf.byteLength >= 4) {
      const n = new DataView(this.#buf.buffer, this.#buf.byteOffset, 4).getUint32(0);
      if (n > MAX_MESSAGE) throw new Error('ssh-agent message too large');
      if (this.#buf.byteLength < 4 + n) break;
      out.push(this.#buf.slice(4, 4 + n));
      this.#buf = this.#buf.slice(4 + n);
    }
    return out;
  }
}

/** Answers one request from in-memory keys. */
function answerFromKeys(keys: AgentKey[], msg: Uint8Array): Uint8Array {
  if (msg[0] === REQUEST_IDENTITIES) {
    return concat(new Uint8Array([IDENTITIES_ANSWER]), u32(keys.length), ...keys.flatMap((k) => [str(k.blob), str(k.comment)]));
  }
  if (msg[0] === SIGN_REQUEST) {
    try {
      const r = new WireReader(msg.subarray(1));
      const blob = r.string();
      const data = r.string();
      const flags = r.done ? 0 : r.uint32();
      const key = keys.find((k) => Buffer.from(k.blob).equals(blob));
      if (key) return concat(new Uint8Array([SIGN_RESPONSE]), str(key.sign(data, flags)));
    } catch {}
  }
  return failure();
}

/** One upstream agent connection, asked one request at a time. */
function upstreamAgent(path: string): { ask(msg: Uint8Array): Promise<Uint8Array>; close(): void } {
  let sock: Socket | undefined;
  let waiting: ((m: Uint8Array | undefined) => void) | undefined;
  const framer = new Framer();
  const open = () => {
    const s = connect(path);
    s.on('data', (chunk: Buffer) => {
      for (const m of framer.push(chunk)) waiting?.(m);
    });
    s.on('error', () => waiting?.(undefined));
    s.on('close', () => {
      sock = undefined;
      waiting?.(undefined);
    });
    return s;
  };
  return {
    ask: (msg) =>
      new Promise((resolve) => {
        sock ??= open();
        waiting = (m) => {
          waiting = undefined;
          resolve(m ?? failure());
        };
        sock.write(frame(msg));
      }),
    close: () => sock?.destroy(),
  };
}

function handleConnection(conn: Socket, source: SshSource): void {
  const framer = new Framer();
  const upstream = source.kind === 'socket' ? upstreamAgent(source.path) : undefined;
  let queue = Promise.resolve();
  conn.on('data', (chunk: Buffer) => {
    let msgs: Uint8Array[];
    try {
      msgs = framer.push(chunk);
    } catch {
      conn.destroy();
      return;
    }
    for (const msg of msgs) {
      // Requests are answered in order, one at a time.
      queue = queue.then(async () => {
        const allowed = msg[0] === REQUEST_IDENTITIES || msg[0] === SIGN_REQUEST;
        const answer = !allowed ? failure() : upstream ? await upstream.ask(msg) : answerFromKeys(source.kind === 'keys' ? source.keys : [], msg);
        if (!conn.destroyed) conn.write(frame(answer));
      });
    }
  });
  conn.on('error', () => {});
  conn.on('close', () => upstream?.close());
}

/** Listens on `path` (a unix socket) for agent clients until the returned close(). */
export async function listenAgent(path: string, source: SshSource): Promise<{ close(): Promise<void> }> {
  const conns = new Set<Socket>();
  const server: Server = createServer((c) => {
    conns.add(c);
    c.on('close', () => conns.delete(c));
    handleConnection(c, source);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  return {
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of conns) c.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Whether `path` answers as an ssh-agent socket right now (a connection opens). */
export function agentReachable(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
