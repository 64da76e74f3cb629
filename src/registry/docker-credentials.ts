import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { KilnError } from '../util/errors.ts';
import type { Credentials } from './auth.ts';

/**
 * Registry credentials as docker keeps them, in `$DOCKER_CONFIG/config.json` (default
 * `~/.docker/config.json`): `credHelpers[host]`, else `credsStore` (both run
 * `docker-credential-NAME get`), else `auths[host]` (`auth` = base64 user:password, or
 * `username`/`password`). Docker Hub's key is `https://index.docker.io/v1/`.
 */
interface DockerConfig {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
  [k: string]: unknown;
}

const HUB_KEY = 'https://index.docker.io/v1/';

export function dockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.DOCKER_CONFIG || join(env.HOME || homedir(), '.docker'), 'config.json');
}

function readConfig(path: string): DockerConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return {};
  }
  try {
    return JSON.parse(text) as DockerConfig;
  } catch (err) {
    throw new KilnError(`${path}: ${(err as Error).message}`, { kind: 'usage' });
  }
}

/** The key docker uses for a registry host (`docker.io` → the Hub's v1 URL). */
function keyOf(host: string): string {
  return host === 'docker.io' || host === 'index.docker.io' || host === 'registry-1.docker.io' ? HUB_KEY : host;
}

/** `https://host:5000/v2/` and `host:5000` name the same registry. */
function sameHost(key: string, host: string): boolean {
  const bare = key.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  return key === host || bare === host || (key === HUB_KEY && keyOf(host) === HUB_KEY);
}

/** `docker-credential-NAME get`, the server on stdin; undefined when it has nothing for it. */
function fromHelper(name: string, server: string): Credentials | undefined {
  const r = spawnSync(`docker-credential-${name}`, ['get'], { input: server, encoding: 'utf8', timeout: 30_000 });
  if (r.error) throw new KilnError(`credential helper docker-credential-${name}: ${r.error.message}`, { kind: 'runtime', hint: `install docker-credential-${name}, or remove it from ${dockerConfigPath()}` });
  if (r.status !== 0) return undefined; // "credentials not found in native keychain"
  const out = JSON.parse(r.stdout) as { Username?: string; Secret?: string };
  if (!out.Secret) return undefined;
  return { username: out.Username ?? '', password: out.Secret };
}

/** The credentials callback for the registry client: asked per host, answers remembered for the process. */
export function dockerCredentials(env: NodeJS.ProcessEnv = process.env): (host: string) => Credentials | undefined {
  const memo = new Map<string, Credentials | undefined>();
  return (host) => {
    if (memo.has(host)) return memo.get(host);
    const cfg = readConfig(dockerConfigPath(env));
    const key = keyOf(host);
    let creds: Credentials | undefined;
    const helper = Object.entries(cfg.credHelpers ?? {}).find(([k]) => sameHost(k, host))?.[1] ?? cfg.credsStore;
    if (helper) creds = fromHelper(helper, key);
    if (!creds) {
      const entry = Object.entries(cfg.auths ?? {}).find(([k]) => sameHost(k, host))?.[1];
      if (entry?.auth) {
        const plain = Buffer.from(entry.auth, 'base64').toString('utf8');
        const i = plain.indexOf(':');
        if (i > 0) creds = { username: plain.slice(0, i), password: plain.slice(i + 1) };
      } else if (entry?.username && entry.password) creds = { username: entry.username, password: entry.password };
    }
    memo.set(host, creds);
    return creds;
  };
}

/** `kiln login`: stores credentials as docker does (a configured helper, else base64 in config.json). */
export function storeCredentials(host: string, creds: Credentials, env: NodeJS.ProcessEnv = process.env): string {
  const path = dockerConfigPath(env);
  const cfg = readConfig(path);
  const key = keyOf(host);
  const helper = Object.entries(cfg.credHelpers ?? {}).find(([k]) => sameHost(k, host))?.[1] ?? cfg.credsStore;
  if (helper) {
    const r = spawnSync(`docker-credential-${helper}`, ['store'], { input: JSON.stringify({ ServerURL: key, Username: creds.username, Secret: creds.password }), encoding: 'utf8' });
    if (r.status !== 0) throw new KilnError(`docker-credential-${helper} store failed: ${(r.stderr || r.error?.message || '').trim()}`, { kind: 'runtime' });
    return `docker-credential-${helper}`;
  }
  cfg.auths = { ...(cfg.auths ?? {}), [key]: { auth: Buffer.from(`${creds.username}:${creds.password}`).toString('base64') } };
  writeConfig(path, cfg);
  return path;
}

/** `kiln logout`: forgets the host's credentials; false when there were none. */
export function eraseCredentials(host: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const path = dockerConfigPath(env);
  const cfg = readConfig(path);
  const key = keyOf(host);
  const helper = Object.entries(cfg.credHelpers ?? {}).find(([k]) => sameHost(k, host))?.[1] ?? cfg.credsStore;
  if (helper) return spawnSync(`docker-credential-${helper}`, ['erase'], { input: key, encoding: 'utf8' }).status === 0;
  const keys = Object.keys(cfg.auths ?? {}).filter((k) => sameHost(k, host));
  if (!keys.length) return false;
  for (const k of keys) delete cfg.auths![k];
  writeConfig(path, cfg);
  return true;
}

function writeConfig(path: string, cfg: DockerConfig): void {
  mkdirSync(join(path, '..'), { recursive: true, mode: 0o700 });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(cfg, null, '\t')}\n`, { mode: 0o600 });
  renameSync(tmp, path);
}
