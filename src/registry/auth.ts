/**
 * Registry authentication: `WWW-Authenticate` challenges (Bearer token flow, anonymous or
 * with Basic credentials sent to the realm; plain Basic), and a token cache per
 * registry host + scope. Safe to use concurrently: concurrent requests for the same token
 * share one token fetch.
 */
import { Buffer } from 'node:buffer';
import type { HttpRequest } from './transport.ts';
import { httpError, unreachableError } from './errors.ts';

export interface Credentials {
  username: string;
  password: string;
}

export interface Challenge {
  /** Lower-cased: `bearer`, `basic`. */
  scheme: string;
  /** Parameter names lower-cased: realm, service, scope, error. */
  params: Record<string, string>;
}

/**
 * Parses a `WWW-Authenticate` header value into challenges (RFC 7235): several challenges may
 * share one header, separated by commas; parameter values are tokens or quoted strings.
 */
export function parseWwwAuthenticate(header: string): Challenge[] {
  const out: Challenge[] = [];
  const n = header.length;
  let i = 0;
  const skip = (chars: string) => {
    while (i < n && chars.includes(header[i]!)) i++;
  };
  const token = () => {
    const start = i;
    while (i < n && !' \t,="'.includes(header[i]!)) i++;
    return header.slice(start, i);
  };
  while (i < n) {
    skip(' \t,');
    const word = token();
    if (!word) {
      i++; // stray character: skip it
      continue;
    }
    skip(' \t');
    if (header[i] !== '=') {
      out.push({ scheme: word.toLowerCase(), params: {} });
      continue;
    }
    i++; // '='
    skip(' \t');
    let value = '';
    if (header[i] === '"') {
      for (i++; i < n && header[i] !== '"'; i++) {
        if (header[i] === '\\' && i + 1 < n) i++;
        value += header[i];
      }
      i++; // closing quote
    } else {
      value = token();
    }
    const current = out[out.length - 1];
    if (current) current.params[word.toLowerCase()] = value;
  }
  return out;
}

interface CachedToken {
  token: string;
  expiresAt: number;
}

interface HostAuth {
  challenge: Challenge;
}

export interface Authenticator {
  /** The Authorization header to send up front for `host` + `scope`, when a challenge is already known. */
  authorization(host: string, domain: string, scope: string): Promise<string | undefined>;
  /**
   * Learns from a 401 and returns the header to retry with; undefined when there is nothing
   * to retry with (e.g. Basic without credentials). Drops a cached token that was refused.
   */
  onUnauthorized(host: string, domain: string, scope: string, wwwAuthenticate: string | undefined): Promise<string | undefined>;
}

export interface AuthenticatorOptions {
  /** Sends one request (undici's `request` shape; the transport picks the host's TLS settings). */
  request: HttpRequest;
  userAgent: string;
  /** Looked up with the reference's domain (`docker.io`, `127.0.0.1:5000`). */
  credentials?: (domain: string) => Credentials | undefined;
}

const basicHeader = (c: Credentials) => `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;

export function createAuthenticator(opts: AuthenticatorOptions): Authenticator {
  const hosts = new Map<string, HostAuth>();
  const tokens = new Map<string, CachedToken>();
  const inflight = new Map<string, Promise<string>>();

  async function fetchToken(domain: string, ch: Challenge, scopes: string[]): Promise<string> {
    const realm = ch.params.realm;
    if (!realm) throw httpError(`failed to authorize ${domain}: bearer challenge without realm`, 401, '');
    const url = new URL(realm);
    if (ch.params.service) url.searchParams.set('service', ch.params.service);
    for (const s of scopes) url.searchParams.append('scope', s);
    const creds = opts.credentials?.(domain);
    const headers: Record<string, string> = { 'user-agent': opts.userAgent, accept: 'application/json' };
    if (creds) headers.authorization = basicHeader(creds);
    let res: Awaited<ReturnType<HttpRequest>>;
    try {
      res = await opts.request(url, { method: 'GET', headers });
    } catch (err) {
      throw unreachableError(url.host, err);
    }
    const text = await res.body.text();
    const what = `failed to authorize ${domain}: failed to fetch ${creds ? 'oauth' : 'anonymous'} token from ${url.origin}${url.pathname}`;
    if (res.statusCode !== 200) throw httpError(what, res.statusCode, text);
    let body: { token?: string; access_token?: string; expires_in?: number; issued_at?: string };
    try {
      body = JSON.parse(text);
    } catch {
      throw httpError(`${what}: invalid JSON`, res.statusCode, '');
    }
    const token = body.token ?? body.access_token;
    if (!token) throw httpError(`${what}: no token in the response`, res.statusCode, '');
    const ttl = Math.max(typeof body.expires_in === 'number' ? body.expires_in : 60, 10);
    const issued = body.issued_at ? Date.parse(body.issued_at) : NaN;
    const start = Number.isFinite(issued) ? Math.min(issued, Date.now()) : Date.now();
    const expiresAt = start + (ttl - 5) * 1000;
    for (const s of scopes) tokens.set(tokenKey(ch, s), { token, expiresAt });
    return token;
  }

  function tokenKey(ch: Challenge, scope: string): string {
    return `${ch.params.realm}|${ch.params.service ?? ''}|${scope}`;
  }

  function bearer(host: string, domain: string, ch: Challenge, scopes: string[]): Promise<string> {
    const key = `${host}|${tokenKey(ch, scopes.join(' '))}`;
    let p = inflight.get(key);
    if (!p) {
      p = fetchToken(domain, ch, scopes).finally(() => inflight.delete(key));
      inflight.set(key, p);
    }
    return p;
  }

  return {
    async authorization(host, domain, scope) {
      const h = hosts.get(host);
      if (!h) return undefined;
      if (h.challenge.scheme === 'basic') {
        const c = opts.credentials?.(domain);
        return c ? basicHeader(c) : undefined;
      }
      const cached = tokens.get(tokenKey(h.challenge, scope));
      if (cached && cached.expiresAt > Date.now()) return `Bearer ${cached.token}`;
      return `Bearer ${await bearer(host, domain, h.challenge, [scope])}`;
    },

    async onUnauthorized(host, domain, scope, header) {
      const challenges = header ? parseWwwAuthenticate(header) : [];
      const ch = challenges.find((c) => c.scheme === 'bearer') ?? challenges.find((c) => c.scheme === 'basic');
      if (!ch) return undefined;
      hosts.set(host, { challenge: ch });
      if (ch.scheme === 'basic') {
        const c = opts.credentials?.(domain);
        return c ? basicHeader(c) : undefined;
      }
      const scopes = [scope];
      const extra = ch.params.scope;
      if (extra) for (const s of extra.split(' ')) if (s && !scopes.includes(s)) scopes.push(s);
      for (const s of scopes) tokens.delete(tokenKey(ch, s));
      return `Bearer ${await bearer(host, domain, ch, scopes)}`;
    },
  };
}
