/**
 * kiln's cache document: which cache keys resolve to which layer chains. It travels as the
 * config blob of a cache manifest (registry, local layout) or inside an image config
 * (inline). Keys are kiln's (machine-independent: op digests, content checksums, manifest
 * digests), so this is kiln's own media type, not BuildKit's cacheconfig.
 *
 * Records are sorted and layers listed in the order records first use them, so the same
 * build exports byte-identical documents on any machine.
 */
import * as v from 'valibot';
import type { Digest } from '../util/digest.ts';
import { KilnError } from '../util/errors.ts';
import { DigestSchema, type Descriptor } from '../oci/types.ts';
import { isIndexMediaType, isManifestMediaType } from '../oci/media-types.ts';

export const CACHE_CONFIG_MEDIA_TYPE = 'application/vnd.kiln.cache.config.v1+json';
/** The image config field that carries inline cache records. */
export const INLINE_CACHE_FIELD = 'kiln.cache.v1';
/** The layer annotation naming its uncompressed digest (containerd's, as BuildKit writes it). */
export const UNCOMPRESSED_ANNOTATION = 'containerd.io/uncompressed';

/** A layer blob as a record names it. */
export interface CacheLayer {
  digest: Digest;
  size: number;
  mediaType: string;
  diffId: Digest;
}

/** Output `output` of the vertex with cache key `key` is the file system of `chain` (layer indexes, base first). */
export interface CacheRecord {
  key: string;
  output: number;
  chain: number[];
}

export interface CacheDocument {
  layers: CacheLayer[];
  records: CacheRecord[];
}

const Index = v.pipe(v.number(), v.integer(), v.minValue(0));
const RecordSchema = v.object({ key: v.pipe(v.string(), v.minLength(1)), output: Index, chain: v.array(Index) });
const LayerSchema = v.object({ digest: DigestSchema, size: Index, mediaType: v.string(), diffId: DigestSchema });
const DocumentSchema = v.object({ layers: v.array(LayerSchema), records: v.array(RecordSchema) });
const InlineSchema = v.object({ records: v.array(RecordSchema) });

/** Parses an untrusted cache document; every chain index must name a layer. */
export function parseCacheDocument(bytes: Uint8Array, what: string): CacheDocument {
  const doc = parseJson(bytes, DocumentSchema, what);
  checkChains(doc.records, doc.layers.length, what);
  return doc;
}

/** The inline records of an image config (undefined when it has none), chains indexing its `layers`. */
export function inlineRecords(config: Record<string, unknown>, layers: number, what: string): CacheRecord[] | undefined {
  const field = config[INLINE_CACHE_FIELD];
  if (field === undefined) return undefined;
  const r = v.safeParse(InlineSchema, field);
  if (!r.success) throw new KilnError(`${what}: invalid inline cache records: ${r.issues[0].message}`, { kind: 'input' });
  checkChains(r.output.records, layers, what);
  return r.output.records;
}

function parseJson<T extends v.GenericSchema>(bytes: Uint8Array, schema: T, what: string): v.InferOutput<T> {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new KilnError(`${what}: the cache document is not JSON`, { kind: 'input' });
  }
  const r = v.safeParse(schema, json);
  if (!r.success) throw new KilnError(`${what}: invalid cache document: ${r.issues[0].message}`, { kind: 'input' });
  return r.output;
}

function checkChains(records: CacheRecord[], layers: number, what: string): void {
  for (const r of records) {
    if (r.chain.some((i) => i >= layers)) throw new KilnError(`${what}: cache record ${r.key.slice(0, 19)} names a layer that is not there`, { kind: 'input' });
  }
}

/** Records sorted (key, output): the deterministic order both documents use. */
export function sortRecords<T extends { key: string; output: number }>(records: T[]): T[] {
  return [...records].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.output - b.output));
}

/** The manifest/index descriptor of a layer, with its uncompressed digest annotated. */
export function layerDescriptor(l: CacheLayer): Descriptor {
  return { mediaType: l.mediaType, digest: l.digest, size: l.size, annotations: { [UNCOMPRESSED_ANNOTATION]: l.diffId } };
}

/**
 * The descriptor of the cache document in a cache manifest (its config) or a cache index (an
 * entry of its own media type); undefined for anything else (an image: inline records, if any).
 */
export function documentDescriptor(mediaType: string, top: { config?: Descriptor; manifests?: Descriptor[] }): Descriptor | undefined {
  const d = isManifestMediaType(mediaType) ? top.config : isIndexMediaType(mediaType) ? top.manifests?.find((m) => m.mediaType === CACHE_CONFIG_MEDIA_TYPE) : undefined;
  return d?.mediaType === CACHE_CONFIG_MEDIA_TYPE ? d : undefined;
}
