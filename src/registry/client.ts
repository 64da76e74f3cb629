/**
 * The registry client (pull side): resolve images, stream and download blobs. Every byte read
 * is verified against its digest. A client keeps a token cache and a connection pool; it is
 * safe to use concurrently and should be closed when done.
 */
import type { Platform } from '../oci/platform.ts';
import type { Reference } from '../oci/reference.ts';
import type { Descriptor } from '../oci/types.ts';
import type { Credentials } from './auth.ts';
import { blobBytes, blobStream, blobToFile, type BlobStream } from './blob.ts';
import { fetchManifest, resolveImage, type FetchedManifest, type ResolvedImage } from './manifest.ts';
import { createTransport, discard, type TransportOptions } from './transport.ts';
import { pushBlob, putManifest, type PushBlobOptions } from './push.ts';
import type { Dispatcher } from 'undici';

export type { Credentials } from './auth.ts';
export type { BlobStream } from './blob.ts';
export type { FetchedManifest, ResolvedImage } from './manifest.ts';

export interface RegistryClientOptions {
  /** Hosts (`host` or `host:port`) spoken to over plain http; loopback hosts always are. */
  insecureHosts?: string[];
  /** Hosts with their own TLS settings (custom CA, key pair, no verification): a request function for them. */
  tlsRequest?: TransportOptions['tlsRequest'];
  userAgent?: string;
  /** Credentials for a reference's domain (`docker.io`, `127.0.0.1:5000`), or undefined for anonymous. */
  credentials?: (host: string) => Credentials | undefined;
  /** Mirror hosts asked before a registry domain, in order (the config file's `mirrors`). */
  mirrors?: (domain: string) => string[] | undefined;
  /** Attempts per request including the first (default 4); backoff starts at `retryDelayMs` (250). */
  attempts?: number;
  retryDelayMs?: number;
  /** An undici dispatcher to use instead of the client's own Agent (not closed by `close()`). */
  dispatcher?: Dispatcher;
  /** When an exchange counts as stalled (default: util/stall.ts DEFAULT_STALL_LIMITS). */
  stall?: TransportOptions['stall'];
  /** A build's signal: every exchange ends when it aborts. */
  signal?: AbortSignal;
}

export interface RegistryClient {
  /**
   * The image `ref` names, for `platform`: when `ref` names an index or manifest list, the
   * best manifest for the platform (exact match, else a compatible variant; a KilnError lists
   * the available platforms when none fits). Manifest, index and config digests are verified.
   */
  resolve(ref: Reference, platform: Platform): Promise<ResolvedImage>;
  /** The raw manifest or index named by `reference` (tag or digest; default: the ref's own), verified. */
  fetchManifest(ref: Reference, reference?: string): Promise<FetchedManifest>;
  /**
   * The blob's bytes as a web `ReadableStream<Uint8Array>` (async-iterable on Bun, Deno and
   * Node; `Readable.fromWeb` turns it into a Node stream). Broken connections are resumed
   * with Range. The stream errors instead of closing when the size or digest differs from
   * `desc`, so a consumer must treat an errored stream as a failed download.
   */
  fetchBlob(ref: Reference, desc: Descriptor): Promise<BlobStream>;
  /**
   * Downloads the blob to `path` through a temp file beside it, verifying size and digest
   * while streaming, then renames it into place. Never leaves a partial file at `path`.
   */
  /** Downloads a verified blob to `path`; `onBytes` hears of each chunk written (its size). */
  fetchBlobToFile(ref: Reference, desc: Descriptor, path: string, onBytes?: (n: number) => void): Promise<void>;
  /** A small blob (a config, a cache document) in memory, verified; refuses one larger than `maxSize`. */
  fetchBlobBytes(ref: Reference, desc: Descriptor, maxSize: number): Promise<Uint8Array>;
  /** Uploads a blob unless the repository has it. */
  pushBlob(ref: Reference, desc: Descriptor, open: (range?: { start: number; end: number }) => NodeJS.ReadableStream | Buffer, opts?: PushBlobOptions): Promise<'exists' | 'mounted' | 'pushed'>;
  /** Puts a manifest or index under a tag (or its digest). */
  putManifest(ref: Reference, mediaType: string, bytes: Uint8Array, reference: string): Promise<void>;
  /** `GET /v2/` with this client's credentials (what `docker login` checks): the HTTP status. */
  ping(host: string): Promise<number>;
  /** Closes idle connections. Idempotent. */
  close(): Promise<void>;
}

export function createRegistryClient(opts: RegistryClientOptions = {}): RegistryClient {
  const t = createTransport({
    insecureHosts: opts.insecureHosts,
    tlsRequest: opts.tlsRequest,
    userAgent: opts.userAgent,
    credentials: opts.credentials,
    mirrors: opts.mirrors,
    attempts: opts.attempts,
    retryDelayMs: opts.retryDelayMs,
    dispatcher: opts.dispatcher,
    stall: opts.stall,
    signal: opts.signal,
  });
  let closed: Promise<void> | undefined;
  return {
    resolve: function resolve(ref, platform) {
      return resolveImage(t, ref, platform);
    },
    fetchManifest: function fetchRawManifest(ref, reference) {
      return fetchManifest(t, ref, reference);
    },
    fetchBlob: async function fetchBlob(ref, desc) {
      return blobStream(t, ref, desc);
    },
    fetchBlobToFile: function fetchBlobToFile(ref, desc, path, onBytes) {
      return blobToFile(t, ref, desc, path, onBytes);
    },
    fetchBlobBytes: function fetchBlobBytes(ref, desc, maxSize) {
      return blobBytes(t, ref, desc, maxSize);
    },
    pushBlob: function push(ref, desc, open, o) {
      return pushBlob(t, ref, desc, open, o);
    },
    putManifest: function put(ref, mediaType, bytes, reference) {
      return putManifest(t, ref, mediaType, bytes, reference);
    },
    ping: async function ping(host) {
      const res = await t.send({ domain: host, path: 'kiln/login' }, { method: 'GET', path: '/v2/' });
      await discard(res.body);
      return res.status;
    },
    close: function close() {
      closed ??= t.close();
      return closed;
    },
  };
}
