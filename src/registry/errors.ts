/**
 * Registry failures as KilnErrors with docker's wording: the distribution error code in lower
 * case ("manifest unknown: manifest unknown", "unauthorized: authentication required"), the
 * HTTP status, and what was being done to which reference.
 */
import { KilnError } from '../util/errors.ts';

/** A KilnError from the registry client; `status` is the HTTP status when there was a response. */
export type RegistryError = KilnError & { status?: number; registryCode?: string; network?: boolean };

interface ErrorBody {
  errors?: Array<{ code?: string; message?: string; detail?: unknown }>;
  details?: string;
}

/** `MANIFEST_UNKNOWN` + `manifest unknown` → `manifest unknown: manifest unknown` (docker's errcode format). */
function describeBody(bodyText: string): { text?: string; code?: string } {
  try {
    const b = JSON.parse(bodyText) as ErrorBody;
    if (Array.isArray(b.errors) && b.errors.length > 0) {
      const parts = b.errors.map((e) => {
        const code = (e.code ?? 'unknown').toLowerCase().replaceAll('_', ' ');
        return e.message ? `${code}: ${e.message}` : code;
      });
      return { text: parts.join('; '), code: b.errors[0]!.code };
    }
    if (typeof b.details === 'string') return { text: b.details };
  } catch {
    // not JSON
  }
  const t = bodyText.trim();
  return t && t.length < 200 && !t.startsWith('<') ? { text: t } : {};
}

const STATUS_TEXT: Record<number, string> = {
  400: 'bad request',
  401: 'unauthorized: authentication required',
  403: 'denied: requested access to the resource is denied',
  404: 'not found',
  405: 'unsupported',
  429: 'toomanyrequests: too many requests',
  500: 'internal server error',
  502: 'bad gateway',
  503: 'service unavailable',
  504: 'gateway timeout',
};

function hintFor(status: number): string | undefined {
  if (status === 401 || status === 403) return 'check that the image exists and that you are logged in to this registry with access to it';
  if (status === 404) return 'check the image name, tag and digest';
  if (status === 429) return 'the registry is rate limiting; wait, or log in for a higher limit';
  return undefined;
}

/**
 * The error for an unexpected HTTP response. `action` names the operation and reference:
 * "failed to resolve 127.0.0.1:5000/busybox:nope".
 */
export function httpError(action: string, status: number, bodyText: string): RegistryError {
  const d = describeBody(bodyText);
  const text = d.text ?? STATUS_TEXT[status] ?? `unexpected status`;
  const err = new KilnError(`${action}: ${text} (HTTP ${status})`, {
    kind: status >= 500 || status === 429 ? 'runtime' : 'input',
    hint: hintFor(status),
  }) as RegistryError;
  err.status = status;
  if (d.code) err.registryCode = d.code;
  return err;
}

/** The error code of a network failure (undici wraps some; happy-eyeballs gives an AggregateError). */
export function networkErrorCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let i = 0; i < 4 && e && typeof e === 'object'; i++) {
    const o = e as { code?: unknown; errors?: unknown[]; cause?: unknown };
    if (typeof o.code === 'string') return o.code;
    if (Array.isArray(o.errors) && o.errors.length > 0) e = o.errors[0];
    else e = o.cause;
  }
  return undefined;
}

/** "cannot reach registry 127.0.0.1:5000: connect ECONNREFUSED 127.0.0.1:5000". */
const NETWORK_TEXT: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'no such host',
  EAI_AGAIN: 'temporary DNS failure',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection reset',
  UND_ERR_SOCKET: 'connection closed by the other side',
  ETIMEDOUT: 'connection timed out',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  UND_ERR_HEADERS_TIMEOUT: 'no response in time',
  UND_ERR_BODY_TIMEOUT: 'download stalled',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
};

export function unreachableError(host: string, cause: unknown, action?: string): RegistryError {
  const code = networkErrorCode(cause);
  const raw = cause instanceof Error ? cause.message : String(cause);
  if (code === 'KILN_STALL') {
    // "127.0.0.1:5000 stalled: no data for 30 s", after every retry.
    const err = new KilnError(`${action ? `${action}: ` : ''}registry ${raw}`, {
      kind: 'runtime',
      cause,
      hint: 'the registry or the network stopped moving data; kiln retried. The limits are [network] idle-timeout, low-speed-limit and low-speed-time in kiln.toml',
    }) as RegistryError;
    err.network = true;
    return err;
  }
  const msg = code && NETWORK_TEXT[code] ? `${NETWORK_TEXT[code]} (${code})` : raw || code || 'connection failed';
  const err = new KilnError(`${action ? `${action}: ` : ''}cannot reach registry ${host}: ${msg}`, {
    kind: 'runtime',
    cause,
    hint:
      code === 'ECONNREFUSED'
        ? 'is the registry running and listening on that port?'
        : code === 'ENOTFOUND' || code === 'EAI_AGAIN'
          ? 'check the registry host name and your DNS / network'
          : /certificate|self[- ]signed|CERT_|SSL|TLS/i.test(`${code ?? ''} ${raw}`)
            ? `trust the registry's CA in the config file: [registry."${host}"] ca = ["/path/ca.pem"] (or insecure = true to skip verification)`
            : undefined,
  }) as RegistryError;
  err.network = true;
  return err;
}

/** True for "manifest unknown" / "name unknown" / "blob unknown" / a plain 404. */
export function isNotFoundError(err: unknown): boolean {
  return err instanceof KilnError && (err as RegistryError).status === 404;
}

export function isUnauthorizedError(err: unknown): boolean {
  const s = err instanceof KilnError ? (err as RegistryError).status : undefined;
  return s === 401 || s === 403;
}
