/**
 * One HTTP exchange with a registry over undici: authentication (see auth.ts), redirects
 * (Authorization is dropped when leaving the registry's origin), and retries with
 * exponential backoff on 429 / 5xx / connection resets. Safe to use concurrently.
 */
import { Agent, request, type Dispatcher } from 'undici';
import type { Reference } from '../oci/reference.ts';
import { KilnError } from '../util/errors.ts';
import { createAuthenticator, type Credentials } from './auth.ts';
import { networkErrorCode, unreachableError } from './errors.ts';
import { apiHost, registryBaseUrl } from './hosts.ts';
import { DEFAULT_STALL_LIMITS, type StallLimits } from '../util/stall.ts';
import { watchedRequest } from './watched-request.ts';

export interface TransportOptions {
  insecureHosts?: string[];
  userAgent?: string;
  credentials?: (domain: string) => Credentials | undefined;
  /** Attempts per request, including the first (default 4). */
  attempts?: number;
  /** First backoff delay in ms (default 250), doubled on every retry. */
  retryDelayMs?: number;
  /** Use this undici dispatcher instead of a private Agent (the caller then owns closing it). */
  dispatcher?: Dispatcher;
  /** Mirror hosts to ask before a registry domain (`docker.io` → `["mirror.local:5000"]`). */
  mirrors?: (domain: string) => string[] | undefined;
  /**
   * A request function for a host (`host:port`) with its own TLS settings, or undefined for the
   * default. Such a host is always spoken to over https, also a loopback one.
   */
  tlsRequest?: (host: string) => HttpRequest | undefined;
  /** When an exchange counts as stalled (util/stall.ts); default DEFAULT_STALL_LIMITS. */
  stall?: StallLimits;
  /** Aborts every exchange (a canceled build): they fail with a KilnError of kind canceled. */
  signal?: AbortSignal;
}

/** undici's `request`, as far as registries need it. */
export type HttpRequest = (
  url: string | URL,
  opts: { method: string; headers: Record<string, string>; body?: unknown; signal?: AbortSignal },
) => Promise<{ statusCode: number; headers: Dispatcher.ResponseData['headers']; body: Dispatcher.ResponseData['body'] }>;

export interface SendRequest {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH';
  /** Path under the registry root, starting with `/v2/`; or an absolute URL (an upload's Location). */
  path: string;
  headers?: Record<string, string>;
  /** The request body, made anew for every attempt (uploads). */
  body?: () => Buffer | NodeJS.ReadableStream;
  /** Ask for push rights (`repository:NAME:pull,push`). */
  push?: boolean;
}

export interface RegistryResponse {
  status: number;
  headers: Dispatcher.ResponseData['headers'];
  body: Dispatcher.ResponseData['body'];
  /** The URL that answered (after redirects). */
  url: string;
}

export interface Transport {
  /**
   * Sends `req` to the registry serving `ref`. Returns any final response, including error
   * statuses (the caller reads or dumps the body); throws only when the registry cannot be
   * reached (after retries).
   */
  send(ref: Reference, req: SendRequest): Promise<RegistryResponse>;
  readonly attempts: number;
  /** Waits before retry `n` (0-based); honours a Retry-After in seconds. */
  backoff(n: number, retryAfter?: string | string[]): Promise<void>;
  close(): Promise<void>;
}

const RETRY_STATUS = new Set([408, 429, 500, 502, 503, 504]);
const RETRY_CODES = new Set([
  'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CLOSED', 'KILN_STALL',
]);

export function isRetryableStatus(status: number): boolean {
  return RETRY_STATUS.has(status);
}

/** Connection resets and timeouts (not "refused" or "no such host": those fail fast). */
export function isRetryableNetworkError(err: unknown): boolean {
  const code = networkErrorCode(err);
  return code !== undefined && RETRY_CODES.has(code);
}

const header = (h: Dispatcher.ResponseData['headers'], name: string): string | undefined => {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
};

export function createTransport(opts: TransportOptions = {}): Transport {
  const stall = opts.stall ?? DEFAULT_STALL_LIMITS;
  // undici's own timeouts are a backstop, past the watchdog's idle limit: the watchdog, which
  // names the host and honours [network], is the limit a user meets.
  const backstop = Math.min(2 ** 31 - 1, Math.max(120_000, stall.idleMs + 60_000));
  const dispatcher =
    opts.dispatcher ?? new Agent({ connect: { timeout: 30_000 }, headersTimeout: backstop, bodyTimeout: backstop, keepAliveTimeout: 4_000 });
  const userAgent = opts.userAgent ?? 'kiln/0.1';
  const attempts = Math.max(1, opts.attempts ?? 4);
  const baseDelay = opts.retryDelayMs ?? 250;
  const defaultRequest: HttpRequest = (url, o) => request(url, { method: o.method as 'GET', headers: o.headers, body: o.body as never, dispatcher, signal: o.signal });
  /** The request function for `url`'s host, every exchange under a stall watchdog. */
  const requestFor = (url: string | URL): HttpRequest => watchedRequest(opts.tlsRequest?.(new URL(url).host) ?? defaultRequest, stall, opts.signal);
  const auth = createAuthenticator({ request: (url, o) => requestFor(url)(url, o), userAgent, credentials: opts.credentials });

  async function backoff(n: number, retryAfter?: string | string[]): Promise<void> {
    const ra = Number(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter);
    const ms = Number.isFinite(ra) && ra >= 0 ? Math.min(ra * 1000, 30_000) : baseDelay * 2 ** n * (0.8 + Math.random() * 0.4);
    await new Promise((r) => setTimeout(r, ms));
  }

  /** One request following redirects; 401 from the registry origin is returned to the caller. */
  async function exchange(url: string, method: string, headers: Record<string, string>, origin: string, body?: () => Buffer | NodeJS.ReadableStream): Promise<RegistryResponse> {
    let current = url;
    for (let hop = 0; hop <= 5; hop++) {
      const h = new URL(current).origin === origin ? headers : withoutAuth(headers);
      const res = await requestFor(current)(current, { method, headers: h, body: body?.() });
      const loc = header(res.headers, 'location');
      if (res.statusCode >= 300 && res.statusCode < 400 && res.statusCode !== 304 && loc) {
        await discard(res.body);
        current = new URL(loc, current).toString();
        continue;
      }
      return { status: res.statusCode, headers: res.headers, body: res.body, url: current };
    }
    throw new Error(`too many redirects from ${url}`);
  }

  /**
   * Mirrors of `ref`'s registry are asked first, each once (no retries): the first answer
   * below 400 wins; an unreachable mirror, or one without the content, falls back to the next
   * and finally to the registry itself. Content is verified by digest either way.
   */
  async function send(ref: Reference, req: SendRequest): Promise<RegistryResponse> {
    const readOnly = req.method === 'GET' || req.method === 'HEAD';
    for (const mirror of readOnly ? (opts.mirrors?.(ref.domain) ?? []) : []) {
      try {
        const res = await sendTo({ ...ref, domain: mirror }, req, 1);
        if (res.status < 400) return res;
        await discard(res.body);
      } catch {
        // this mirror cannot help: try the next, then the origin
      }
    }
    return sendTo(ref, req, attempts);
  }

  return {
    attempts,
    backoff,
    send,
    async close() {
      // Bun's built-in undici has a stub Agent that may lack close().
      const d = dispatcher as { close?: () => Promise<void> };
      if (!opts.dispatcher && typeof d.close === 'function') await d.close();
    },
  };

  async function sendTo(ref: Reference, req: SendRequest, attempts: number): Promise<RegistryResponse> {
    {
      const base = opts.tlsRequest?.(apiHost(ref.domain)) ? `https://${apiHost(ref.domain)}` : registryBaseUrl(ref.domain, opts.insecureHosts);
      const host = apiHost(ref.domain);
      let origin: string;
      try {
        origin = new URL(base).origin;
      } catch {
        // A name the reference grammar allows but no URL can hold (99999999999127.0.0.1:5000).
        throw new KilnError(`invalid registry host ${JSON.stringify(ref.domain)}`, { kind: 'input' });
      }
      const scope = `repository:${ref.path}:${req.push ? 'pull,push' : 'pull'}`;
      const url = /^https?:\/\//.test(req.path) ? req.path : base + req.path;
      for (let attempt = 0; ; attempt++) {
        const headers: Record<string, string> = { 'user-agent': userAgent, ...req.headers };
        try {
          const authz = await auth.authorization(origin, ref.domain, scope);
          if (authz) headers.authorization = authz;
          let res = await exchange(url, req.method, headers, origin, req.body);
          if (res.status === 401 && new URL(res.url).origin === origin) {
            const retryWith = await auth.onUnauthorized(origin, ref.domain, scope, header(res.headers, 'www-authenticate'));
            if (retryWith && retryWith !== authz) {
              await discard(res.body);
              res = await exchange(url, req.method, { ...headers, authorization: retryWith }, origin, req.body);
            }
          }
          if (isRetryableStatus(res.status) && attempt + 1 < attempts) {
            await discard(res.body);
            await backoff(attempt, res.headers['retry-after']);
            continue;
          }
          return res;
        } catch (err) {
          if (err instanceof KilnError || networkErrorCode(err) === undefined) throw err;
          if (isRetryableNetworkError(err) && attempt + 1 < attempts) {
            await backoff(attempt);
            continue;
          }
          throw unreachableError(host, err);
        }
      }
    }
  }
}

function withoutAuth(h: Record<string, string>): Record<string, string> {
  const { authorization: _drop, ...rest } = h;
  return rest;
}

/**
 * Reads and drops a response body so the connection can be reused. undici has `dump()`;
 * Bun's built-in `undici` module (used when kiln runs on Bun) does not.
 */
export async function discard(body: Dispatcher.ResponseData['body']): Promise<void> {
  const b = body as { dump?: () => Promise<void> };
  try {
    if (typeof b.dump === 'function') await b.dump();
    else await body.text();
  } catch {
    body.destroy();
  }
}
