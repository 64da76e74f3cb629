/**
 * Every registry exchange under a watchdog (util/stall.ts): the request, its upload body and
 * its response body. The body handed back is a Readable with undici's body methods (text,
 * json, arrayBuffer, dump) whose reads feed the watchdog; a stall aborts the exchange, and
 * reading then fails with the StallError.
 */
import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { watchTransfer, watchedUpload, type StallLimits, type Watchdog } from '../util/stall.ts';
import type { HttpRequest } from './transport.ts';

type RawBody = Dispatcher.ResponseData['body'];

class WatchedBody extends Readable {
  readonly #raw: RawBody;
  readonly #it: AsyncIterator<Uint8Array>;
  readonly #dog: Watchdog;

  constructor(raw: RawBody, dog: Watchdog) {
    super();
    this.#raw = raw;
    this.#it = (raw as unknown as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
    this.#dog = dog;
  }

  override _read(): void {
    this.#it.next().then(
      (r) => {
        if (r.done) {
          this.#dog.stop();
          this.push(null);
        } else {
          this.#dog.progress(r.value.byteLength);
          this.push(Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength));
        }
      },
      (err) => {
        this.#dog.stop();
        this.destroy(this.#dog.explain(err) as Error);
      },
    );
  }

  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    this.#dog.stop();
    try {
      this.#raw.destroy();
    } catch {
      // already closed
    }
    cb(err);
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    const parts: Buffer[] = [];
    for await (const c of this) parts.push(c as Buffer);
    const b = Buffer.concat(parts);
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
  }

  async text(): Promise<string> {
    return Buffer.from(await this.arrayBuffer()).toString('utf8');
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }

  async dump(): Promise<void> {
    for await (const _ of this) {
      // drained
    }
  }
}

/**
 * `inner` with a watchdog on each exchange with the host of its URL; `cancel` (a build's
 * signal) aborts every exchange at once.
 */
export function watchedRequest(inner: HttpRequest, limits: StallLimits, cancel?: AbortSignal): HttpRequest {
  return async function watched(url, o) {
    const dog = watchTransfer(new URL(url).host, limits, cancel);
    if (dog.signal.aborted) throw dog.explain(undefined);
    let body = o.body;
    if (body && typeof (body as NodeJS.ReadableStream).pipe === 'function') {
      const up = watchedUpload(dog);
      const src = body as NodeJS.ReadableStream;
      src.on('error', (e: Error) => up.destroy(e));
      body = src.pipe(up);
    }
    try {
      const res = await inner(url, { ...o, body, signal: dog.signal });
      dog.progress(0); // headers arrived: the body's clock starts
      return { ...res, body: new WatchedBody(res.body, dog) as unknown as RawBody };
    } catch (err) {
      dog.stop();
      throw dog.explain(err);
    }
  };
}
