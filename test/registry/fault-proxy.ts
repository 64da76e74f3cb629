/**
 * An HTTP proxy in front of a real test registry that injects network faults on chosen
 * requests: error statuses, bodies cut off mid-way, Range ignored, redirects. Test fixture only.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export interface Fault {
  /** Which requests (matched against the path). */
  match: RegExp;
  /** How many matching requests to affect (default: all). */
  times?: number;
  /** Answer with this status instead of forwarding. */
  status?: number;
  /** Forward, but close the connection after this many body bytes. */
  cutAfter?: number;
  /** Drop the client's Range header (the registry then answers 200 with the whole blob). */
  ignoreRange?: boolean;
  /** Redirect (307) to the registry itself, a different origin. */
  redirect?: boolean;
}

export interface LoggedRequest {
  method: string;
  path: string;
  range?: string;
  authorization?: string;
}

export interface FaultProxy {
  host: string;
  log: LoggedRequest[];
  faults: Fault[];
  close(): Promise<void>;
}

export async function startFaultProxy(upstream: string /* 127.0.0.1:PORT */): Promise<FaultProxy> {
  const [upHost, upPort] = upstream.split(':') as [string, string];
  const log: LoggedRequest[] = [];
  const faults: Fault[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = req.url ?? '/';
    log.push({ method: req.method ?? 'GET', path, range: req.headers.range, authorization: req.headers.authorization });
    const fault = faults.find((f) => f.match.test(path) && (f.times === undefined || f.times > 0));
    if (fault && fault.times !== undefined) fault.times--;
    if (fault?.status) {
      res.writeHead(fault.status, { 'content-type': 'application/json', 'retry-after': '0' });
      res.end(JSON.stringify({ errors: [{ code: 'UNAVAILABLE', message: 'injected failure' }] }));
      return;
    }
    if (fault?.redirect) {
      res.writeHead(307, { location: `http://${upstream}${path}` });
      res.end();
      return;
    }
    const headers = { ...req.headers, host: upstream };
    if (fault?.ignoreRange) delete headers.range;
    const up = httpRequest({ host: upHost, port: Number(upPort), method: req.method, path, headers }, (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      if (fault?.cutAfter === undefined) {
        upRes.pipe(res);
        return;
      }
      let sent = 0;
      const limit = fault.cutAfter;
      upRes.on('data', (chunk: Buffer) => {
        if (sent >= limit) return;
        const part = chunk.subarray(0, limit - sent);
        sent += part.length;
        res.write(part);
        if (sent >= limit) {
          upRes.destroy();
          // let the bytes go out, then reset the connection
          setTimeout(() => res.socket?.destroy(), 20);
        }
      });
      upRes.on('end', () => res.end());
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    host: `127.0.0.1:${port}`,
    log,
    faults,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
