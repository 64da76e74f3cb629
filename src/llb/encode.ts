import { sha256, type Digest } from '../util/digest.ts';
import type { Op } from './types.ts';

/**
 * Canonical JSON: object keys sorted, `undefined` members dropped, no whitespace.
 * The same value always encodes to the same string, whatever order it was built in.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (value === undefined) return 'null';
    if (typeof value === 'number' && !Number.isFinite(value)) throw new Error('cannot encode a non-finite number');
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
  const keys = Object.keys(value as object)
    .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
}

/** The digest of an op: sha256 of its canonical encoding. Metadata is not part of an Op. */
export function opDigest(op: Op): Digest {
  return sha256(canonicalJson(op));
}
