import { createRegistryClient, eraseCredentials, storeCredentials } from '../registry/index.ts';
import { KilnError, usageError } from '../util/errors.ts';

export interface LoginFlags {
  username?: string;
  password?: string;
  passwordStdin?: boolean;
}

/** The registry host of a `kiln login` argument: `docker.io` when none. */
function hostOf(server: string | undefined): string {
  if (!server) return 'docker.io';
  return server.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
}

/**
 * `kiln login [SERVER] -u USER (-p PASS | --password-stdin)`: checks the credentials against
 * the registry (`GET /v2/`, as docker login does), then stores them where docker does
 * ($DOCKER_CONFIG/config.json, or its credential helper).
 */
export async function runLogin(server: string | undefined, flags: LoginFlags): Promise<void> {
  const host = hostOf(server);
  if (!flags.username) throw usageError('kiln login needs -u USER', 'kiln login [SERVER] -u USER --password-stdin');
  let password = flags.password;
  if (flags.passwordStdin) {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    password = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  }
  if (!password) throw usageError('kiln login needs a password', 'pass it on stdin with --password-stdin (or -p)');
  const creds = { username: flags.username, password };
  const client = createRegistryClient({ credentials: (h) => (h === host ? creds : undefined), attempts: 2 });
  try {
    const status = await client.ping(host);
    if (status === 401 || status === 403) throw new KilnError(`login to ${host} failed: the registry refused these credentials (HTTP ${status})`, { kind: 'runtime' });
    if (status >= 400) throw new KilnError(`login to ${host} failed: HTTP ${status}`, { kind: 'runtime' });
  } finally {
    await client.close();
  }
  const where = storeCredentials(host, creds);
  process.stdout.write(`Login Succeeded (credentials in ${where})\n`);
}

/** `kiln logout [SERVER]`. */
export async function runLogout(server: string | undefined): Promise<void> {
  const host = hostOf(server);
  if (!eraseCredentials(host)) {
    process.stdout.write(`Not logged in to ${host}\n`);
    return;
  }
  process.stdout.write(`Removing login credentials for ${host}\n`);
}

