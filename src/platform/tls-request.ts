/**
 * HTTPS requests with a registry's own TLS settings (a custom CA, a client key pair, or no
 * verification at all), shaped like undici's `request` (statusCode, headers, a body with
 * text(), async iteration and destroy()). Node and Deno run npm undici, whose Agent takes the
 * settings; Bun's built-in `undici` module ignores Agent options, so under Bun the request
 * goes through Bun's fetch and its `tls` option instead.
 */
import { Readable } from 'node:stream';
import { Agent, request } from 'undici';

export interface TlsSettings {
  /** PEM certificates of the CAs to trust (instead of the system's). */
  ca?: string[];
  /** PEM client certificate and key. */
  cert?: string;
  key?: string;
  /** false: accept any certificate (the config file's `insecure = true`). */
  rejectUnauthorized: boolean;
}

export interface TlsResponse {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  body: Readable & { text(): Promise<string>; json(): Promise<unknown> };
}

export type TlsRequest = (url: string | URL, opts: { method: string; headers: Record<string, string>; body?: unknown; signal?: AbortSignal }) => Promise<TlsResponse>;

const isBun = () => typeof (globalThis as { Bun?: unknown }).Bun !== 'undefined';

function withText(r: Readable): TlsResponse['body'] {
  const body = r as TlsResponse['body'];
  body.text = async () => {
    const chunks: Buffer[] = [];
    for await (const c of r) chunks.push(Buffer.from(c as Uint8Array));
    return Buffer.concat(chunks).toString('utf8');
  };
  body.json = async () => JSON.parse(await body.text());
  return body;
}

function bunRequester(tls: TlsSettings): TlsRequest {
  const options = { ca: tls.ca, cert: tls.cert, key: tls.key, rejectUnauthorized: tls.rejectUnauthorized };
  return async (url, opts) => {
    let body = opts.body as BodyInit | NodeJS.ReadableStream | undefined;
    if (body && typeof (body as NodeJS.ReadableStream).pipe === 'function') body = Readable.toWeb(body as Readable) as unknown as BodyInit;
    const res = await fetch(url, {
      method: opts.method,
      headers: opts.headers,
      body: body as BodyInit | undefined,
      redirect: 'manual',
      signal: opts.signal,
      // Bun's fetch extension: per-request TLS options.
      ...({ tls: options, duplex: 'half' } as object),
    });
    const headers: Record<string, string | string[]> = {};
    res.headers.forEach((v, k) => {
      headers[k] = v;
    });
    const stream = res.body ? Readable.fromWeb(res.body as never) : Readable.from([]);
    return { statusCode: res.status, headers, body: withText(stream) };
  };
}

function undiciRequester(tls: TlsSettings): TlsRequest {
  const agent = new Agent({ connect: { timeout: 30_000, ca: tls.ca, cert: tls.cert, key: tls.key, rejectUnauthorized: tls.rejectUnauthorized }, headersTimeout: 60_000, bodyTimeout: 120_000 });
  return async (url, opts) => {
    const res = await request(url, { method: opts.method as 'GET', headers: opts.headers, body: opts.body as never, dispatcher: agent, signal: opts.signal });
    return { statusCode: res.statusCode, headers: res.headers, body: res.body as unknown as TlsResponse['body'] };
  };
}

/** A request function that uses `tls` for every connection it makes. */
export function tlsRequester(tls: TlsSettings): TlsRequest {
  return isBun() ? bunRequester(tls) : undiciRequester(tls);
}
