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
  /** Never answer: no status, no headers, the connection kept open. */
  silent?: boolean;
  /** Forward the headers and this many body bytes, then send nothing more (the connection stays open). */
  stallAfter?: number;
  /** Forward the body `bytes` at a time, every `everyMs`. */
  trickle?: { bytes: number; everyMs: number };
  /** A request with a body (PUT, PATCH): stop reading it and never answer. */
  stallUpload?: boolean;
  /** Forward, with every byte of the body from this offset on inverted. */
  corruptFrom?: number;
  /** Close the connection at once, before any answer. */
  reset?: boolean;
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

/** Sends `up`'s body to `res` as `f` says: stalled after N bytes, trickled, or corrupted. */
function shape(up: IncomingMessage, res: ServerResponse, f: Fault): void {
  let sent = 0;
  const queue: Buffer[] = [];
  let timer: ReturnType<typeof setInterval> | undefined;
  const send = (b: Buffer) => {
    if (f.corruptFrom !== undefined) {
      b = Buffer.from(b);
      for (let i = Math.max(0, f.corruptFrom - sent); i < b.length; i++) b[i] = b[i]! ^ 0xff;
    }
    sent += b.length;
    res.write(b);
  };
  up.on('data', (c: Buffer) => {
    if (f.stallAfter !== undefined) {
      if (sent < f.stallAfter) send(c.subarray(0, f.stallAfter - sent));
      return; // the rest is never sent
    }
    if (f.trickle) queue.push(c);
    else send(c);
  });
  if (f.trickle) {
    const { bytes, everyMs } = f.trickle;
    timer = setInterval(() => {
      const head = queue[0];
      if (!head) return;
      send(head.subarray(0, bytes));
      if (head.length <= bytes) queue.shift();
      else queue[0] = head.subarray(bytes);
    }, everyMs);
    res.on('close', () => clearInterval(timer));
  }
  up.on('end', () => {
    if (f.stallAfter !== undefined || f.trickle) return; // stays open (a trickle never finishes in time)
    res.end();
  });
}

export async function startFaultProxy(upstream: string /* 127.0.0.1:PORT */): Promise<FaultProxy> {
  const held = new Set<ServerResponse>();
  let selfHost = '';
  const [upHost, upPort] = upstream.split(':') as [string, string];
  const log: LoggedRequest[] = [];
  const faults: Fault[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = req.url ?? '/';
    log.push({ method: req.method ?? 'GET', path, range: req.headers.range, authorization: req.headers.authorization });
    const fault = faults.find((f) => f.match.test(path) && (f.times === undefined || f.times > 0));
    if (fault && fault.times !== undefined) fault.times--;
    if (fault?.reset) {
      req.socket.destroy();
      return;
    }
    if (fault?.silent || (fault?.stallUpload && (req.method === 'PUT' || req.method === 'PATCH'))) {
      req.pause(); // nothing read, nothing answered: the client must give up by itself
      held.add(res);
      return;
    }
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
      // Uploads continue at the Location the registry names: through this proxy too.
      const loc = upRes.headers.location;
      if (typeof loc === 'string' && loc.startsWith(`http://${upstream}/`)) upRes.headers.location = `http://${selfHost}${loc.slice(`http://${upstream}`.length)}`;
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      if (fault?.stallAfter !== undefined || fault?.trickle || fault?.corruptFrom !== undefined) {
        shape(upRes, res, fault);
        return;
      }
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
  selfHost = `127.0.0.1:${port}`;
  return {
    host: `127.0.0.1:${port}`,
    log,
    faults,
    close: () =>
      new Promise<void>((resolve) => {
        held.clear();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
