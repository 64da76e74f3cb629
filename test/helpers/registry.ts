/**
 * A real registry for tests: Debian's `docker-registry` (distribution 2.8) on 127.0.0.1, on a
 * free port, with its own temp storage dir. Always pair `startRegistry()` with `stop()` in a
 * finally / afterAll.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { makeTempDir, removeAll } from '../../src/util/fs.ts';

const REGISTRY_BIN = '/usr/bin/docker-registry';

export interface TestRegistry {
  /** `127.0.0.1:PORT` — use it as the domain of references (`${host}/busybox:latest`). */
  host: string;
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** The registry's storage root (`docker/registry/v2/...` lives under it); tests may corrupt it. */
  storageDir: string;
  /** Set when started with `htpasswd`: the accepted Basic credentials. */
  credentials?: { username: string; password: string };
  /** Kills the registry and removes its temp dir. Idempotent. */
  stop(): Promise<void>;
}

export interface StartRegistryOptions {
  /** Require HTTP Basic auth (htpasswd, bcrypt) for every request. */
  htpasswd?: { user: string; password: string };
  /**
   * Require Bearer tokens (distribution's `auth: token`): tokens from `realm`, for
   * `service`, signed by `issuer` with a key whose certificate is in `rootCertBundle` (PEM).
   */
  token?: { realm: string; service: string; issuer: string; rootCertBundle: string };
  /** Serve https with this certificate and key (PEM files). */
  tls?: { cert: string; key: string };
}

/** A TCP port on 127.0.0.1 that was free a moment ago (for test servers). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function bcrypt(password: string): Promise<string> {
  // Test-only: Bun's bcrypt ($2b$) is accepted by the registry's Go bcrypt.
  return Bun.password.hash(password, { algorithm: 'bcrypt', cost: 4 });
}

function configYaml(storageDir: string, port: number, htpasswdPath?: string, token?: StartRegistryOptions['token'], tls?: StartRegistryOptions['tls']): string {
  const lines = [
    'version: 0.1',
    'log:',
    '  level: error',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${storageDir}`,
    '  delete:',
    '    enabled: true',
    '  maintenance:',
    '    uploadpurging:',
    '      enabled: false',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    `  secret: kiln-test-secret`,
  ];
  if (tls) lines.push('  tls:', `    certificate: ${tls.cert}`, `    key: ${tls.key}`);
  if (htpasswdPath) lines.push('auth:', '  htpasswd:', '    realm: kiln-test', `    path: ${htpasswdPath}`);
  else if (token) {
    lines.push('auth:', '  token:', `    realm: ${token.realm}`, `    service: ${token.service}`, `    issuer: ${token.issuer}`);
    lines.push(`    rootcertbundle: ${token.rootCertBundle}`);
  }
  return lines.join('\n') + '\n';
}

async function waitReady(url: string, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`docker-registry exited (${child.exitCode ?? child.signalCode}): ${stderr().trim()}`);
    }
    try {
      // (Bun's fetch: a test certificate need not verify to tell that the server is up)
      const res = await fetch(`${url}/v2/`, { signal: AbortSignal.timeout(1000), tls: { rejectUnauthorized: false } } as RequestInit);
      await res.arrayBuffer();
      if (res.status === 200 || res.status === 401) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`docker-registry did not answer on ${url}/v2/ within 15s: ${stderr().trim()}`);
}

function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => child.kill('SIGKILL'), 3000);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Starts a fresh, empty registry. Retries on a port race. */
export async function startRegistry(opts: StartRegistryOptions = {}): Promise<TestRegistry> {
  const dir = await makeTempDir('kiln-registry-');
  let lastErr: unknown;
  try {
    const storageDir = join(dir, 'storage');
    let htpasswdPath: string | undefined;
    if (opts.htpasswd) {
      htpasswdPath = join(dir, 'htpasswd');
      await writeFile(htpasswdPath, `${opts.htpasswd.user}:${await bcrypt(opts.htpasswd.password)}\n`);
    }
    for (let attempt = 0; attempt < 5; attempt++) {
      const port = await freePort();
      const configPath = join(dir, 'config.yml');
      await writeFile(configPath, configYaml(storageDir, port, htpasswdPath, opts.token, opts.tls));
      const child = spawn(REGISTRY_BIN, ['serve', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr!.on('data', (c: Buffer) => {
        err = (err + c.toString()).slice(-4000);
      });
      const url = `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
      try {
        await waitReady(url, child, () => err);
      } catch (e) {
        lastErr = e;
        await kill(child);
        continue;
      }
      let stopped = false;
      return {
        host: `127.0.0.1:${port}`,
        url,
        storageDir,
        credentials: opts.htpasswd ? { username: opts.htpasswd.user, password: opts.htpasswd.password } : undefined,
        async stop() {
          if (stopped) return;
          stopped = true;
          await kill(child);
          await removeAll(dir);
        },
      };
    }
  } catch (e) {
    lastErr = e;
  }
  await removeAll(dir);
  throw lastErr instanceof Error ? lastErr : new Error(String(lastErr));
}

/**
 * Pushes tag `TAG` of the OCI layout at `layoutDir` to `destRef` (`HOST/NAME:TAG`) with
 * skopeo, over plain http. `opts.all` copies a whole index (`--all`); `opts.format` converts;
 * `opts.tag` picks the
 * layout's ref name (default: the tag of `destRef`, else 'latest'); `opts.credentials`
 * logs in. Throws with skopeo's stderr on failure.
 */
export async function pushOciLayout(
  layoutDir: string,
  destRef: string,
  opts: {
    all?: boolean;
    tag?: string;
    credentials?: { username: string; password: string };
    /** Convert manifests: 'v2s2' pushes Docker schema 2 media types. */
    format?: 'oci' | 'v2s2';
  } = {},
): Promise<void> {
  const lastSlash = destRef.lastIndexOf('/');
  const colon = destRef.lastIndexOf(':');
  const refTag = colon > lastSlash ? destRef.slice(colon + 1) : undefined;
  const srcTag = opts.tag ?? refTag ?? 'latest';
  const args = ['copy', '--quiet', '--dest-tls-verify=false'];
  if (opts.all) args.push('--all');
  if (opts.format) args.push('--format', opts.format);
  if (opts.credentials) args.push('--dest-creds', `${opts.credentials.username}:${opts.credentials.password}`);
  args.push(`oci:${layoutDir}:${srcTag}`, `docker://${destRef}`);
  await new Promise<void>((resolve, reject) => {
    const child = spawn('skopeo', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`skopeo ${args.join(' ')} failed (${code}): ${err.trim()}`)),
    );
  });
}

/** True when the registry binary and skopeo are installed (for a clear failure message). */
export function registryToolsPresent(): boolean {
  return spawnSync(REGISTRY_BIN, ['--version']).status === 0 && spawnSync('skopeo', ['--version']).status === 0;
}
