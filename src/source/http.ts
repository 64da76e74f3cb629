/**
 * `https://URL` / `http://URL` sources (ADD of a URL): the file is downloaded into the
 * content store and becomes a one-file snapshot (`/<filename>`, mode 0600 unless set,
 * mtime from Last-Modified), as BuildKit's http source makes it. With a checksum, the key
 * is the checksum and a mismatch fails; without, the key is the downloaded content.
 */
import { request } from 'undici';
import { chmod, lchown, lutimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { KilnError } from '../util/errors.ts';
import { isDigest, type Digest } from '../util/digest.ts';
import type { Store } from '../store/index.ts';
import type { SourceFactory, SourceInstance, SourceRef } from './types.ts';
import { watchedRequest } from '../registry/watched-request.ts';
import { isRetryableNetworkError } from '../registry/transport.ts';
import { DEFAULT_STALL_LIMITS, StallError, type StallLimits } from '../util/stall.ts';
import { withRetries } from '../util/retry.ts';

interface Download {
  digest: Digest;
  lastModified?: Date;
}

/** How downloads count as stalled and how often one is tried (the config's [network]). */
export interface HttpSourceOptions {
  limits?: StallLimits;
  attempts?: number;
}

/** The download, tried again (with backoff) when it stalls or its connection drops. */
async function download(store: Store, url: string, signal: AbortSignal, o: HttpSourceOptions): Promise<Download> {
  try {
    return await withRetries(o.attempts ?? 4, (err) => err instanceof StallError || isRetryableNetworkError(err), () => downloadOnce(store, url, signal, o.limits ?? DEFAULT_STALL_LIMITS), signal);
  } catch (err) {
    if (err instanceof KilnError) throw err;
    throw new KilnError(`cannot download ${url}: ${(err as Error).message}`, {
      kind: 'build',
      hint: err instanceof StallError ? 'the server or the network stopped moving data; kiln retried ([network] in kiln.toml sets the limits)' : undefined,
    });
  }
}

async function downloadOnce(store: Store, url: string, signal: AbortSignal, limits: StallLimits): Promise<Download> {
  const get = watchedRequest((u, o) => request(u, { method: 'GET', headers: o.headers, signal: o.signal }), limits, signal);
  let current = url;
  for (let hop = 0; hop <= 10; hop++) {
    const res = await get(current, { method: 'GET', headers: { 'user-agent': 'kiln/0.1' } });
    const loc = res.headers.location;
    if (res.statusCode >= 300 && res.statusCode < 400 && loc) {
      await res.body.text().catch(() => '');
      current = new URL(Array.isArray(loc) ? loc[0]! : loc, current).toString();
      continue;
    }
    if (res.statusCode !== 200) {
      await res.body.text().catch(() => '');
      throw new KilnError(`invalid response status ${res.statusCode} downloading ${url}`, { kind: 'build' });
    }
    const { digest } = await store.content.putStream(res.body as unknown as Readable);
    const lm = res.headers['last-modified'];
    const lastModified = lm ? new Date(Array.isArray(lm) ? lm[0]! : lm) : undefined;
    return { digest, lastModified: lastModified && !Number.isNaN(lastModified.getTime()) ? lastModified : undefined };
  }
  throw new KilnError(`too many redirects downloading ${url}`, { kind: 'build' });
}

/**
 * The downloaded file's name, mode and owner from the source's attributes (a frontend's
 * LLB): one plain name inside the snapshot, an octal mode up to 7777, numeric ids.
 */
function fileAttrs(attrs: Record<string, string>): { filename: string; perm: number; uid: number; gid: number } {
  const filename = attrs['http.filename'] || '__unnamed__';
  if (filename === '.' || filename === '..' || /[/\0]/.test(filename) || Buffer.byteLength(filename) > 255) {
    throw new KilnError(`http source: file name ${JSON.stringify(filename.slice(0, 80))} is not one plain name`, { kind: 'input' });
  }
  const perm = attrs['http.perm'];
  if (perm !== undefined && !/^[0-7]{1,4}$/.test(perm)) throw new KilnError(`http source: http.perm ${JSON.stringify(perm)} is not an octal mode`, { kind: 'input' });
  const id = (key: string) => {
    const v = attrs[key];
    if (v === undefined) return 0;
    if (!/^\d{1,10}$/.test(v) || Number(v) > 0xfffffffe) throw new KilnError(`http source: ${key} ${JSON.stringify(v)} is not a numeric id`, { kind: 'input' });
    return Number(v);
  };
  return { filename, perm: perm !== undefined ? parseInt(perm, 8) : 0o600, uid: id('http.uid'), gid: id('http.gid') };
}

export function createHttpSource(o: HttpSourceOptions = {}): SourceFactory {
  return function httpSource(identifier, attrs, ctx): SourceInstance {
    const checksum = attrs['http.checksum'];
    if (checksum && !isDigest(checksum)) throw new KilnError(`invalid checksum ${JSON.stringify(checksum)}: want sha256:<64 hex>`, { kind: 'input' });
    const { filename, perm, uid, gid } = fileAttrs(attrs);
    let fetched: Promise<Download> | undefined;
    const fetchOnce = () => {
      fetched ??= download(ctx.store, identifier, ctx.signal, o).then((d) => {
        if (checksum && d.digest !== checksum) {
          throw new KilnError(`digest mismatch for ${identifier}: expected ${checksum}, got ${d.digest}`, { kind: 'build' });
        }
        return d;
      });
      return fetched;
    };
    return {
      async cacheKeyParts() {
        return { content: checksum ?? (await fetchOnce()).digest, filename, perm };
      },
      async load(): Promise<SourceRef> {
        const d = await fetchOnce();
        const active = await ctx.store.snapshots.prepare();
        try {
          const file = join(active.fs, filename);
          await writeFile(file, await ctx.store.content.read(d.digest));
          await lchown(file, uid, gid);
          await chmod(file, perm);
          if (d.lastModified) await lutimes(file, d.lastModified, d.lastModified);
          const rec = await ctx.store.snapshots.commit(active, { parent: null });
          return { kind: 'snapshot', id: rec.id };
        } catch (err) {
          await ctx.store.snapshots.discard(active);
          throw err;
        }
      },
    };
  };
}
