/**
 * JSON encoding that reproduces Go's `encoding/json` output for the image-spec structs, so
 * that the bytes (and so the digests) of the configs and manifests kiln writes are stable
 * and look like BuildKit's: struct fields in declaration order, `omitempty` fields dropped
 * when empty, map keys sorted, no whitespace, and `<`, `>`, `&`, U+2028, U+2029 escaped.
 *
 * The encoding is a pure function of the value and the shape: the same input always gives
 * the same bytes.
 */

/** How one value is laid out. */
export type Shape =
  /**
   * A Go struct: known fields first in this order; unknown keys after them, sorted. With
   * `sorted`, every key is sorted (a Go map[string]json.RawMessage, as BuildKit re-marshals
   * image configs) and `fields` only gives shapes and omitempty.
   */
  | { kind: 'struct'; fields: readonly FieldSpec[]; sorted?: boolean }
  /** A Go map: keys sorted; every value laid out with `value`. */
  | { kind: 'map'; value?: Shape }
  | { kind: 'list'; item?: Shape }
  /** Anything: objects get sorted keys (as Go does for map[string]any). */
  | { kind: 'any' };

export interface FieldSpec {
  key: string;
  /** Go's `omitempty`: drop false, 0, '', [], {} and null. */
  omitEmpty?: boolean;
  shape?: Shape;
}

const ANY: Shape = { kind: 'any' };

/** Encodes `value` laid out as `shape` (default: sorted keys everywhere). */
export function encodeGoJson(value: unknown, shape: Shape = ANY): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return goString(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`cannot encode ${value} as JSON`);
    return JSON.stringify(value);
  }
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) {
    const item = shape.kind === 'list' ? shape.item : ANY;
    return `[${value.map((v) => encodeGoJson(v, item ?? ANY)).join(',')}]`;
  }
  if (typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    if (shape.kind === 'struct') return encodeStruct(obj, shape.fields, shape.sorted === true);
    const valueShape = shape.kind === 'map' ? (shape.value ?? ANY) : ANY;
    const keys = Object.keys(obj)
      .filter((k) => obj[k] !== undefined)
      .sort(compareKeys);
    return `{${keys.map((k) => `${goString(k)}:${encodeGoJson(obj[k], valueShape)}`).join(',')}}`;
  }
  throw new Error(`cannot encode a ${typeof value} as JSON`);
}

function encodeStruct(obj: Record<string, unknown>, fields: readonly FieldSpec[], sorted: boolean): string {
  const parts: string[] = [];
  const known = new Set<string>();
  if (sorted) {
    const specs = new Map(fields.map((f) => [f.key, f]));
    const keys = Object.keys(obj).filter((k) => obj[k] !== undefined).sort(compareKeys);
    for (const k of keys) {
      const f = specs.get(k);
      if (f?.omitEmpty && isEmpty(obj[k])) continue;
      parts.push(`${goString(k)}:${encodeGoJson(obj[k], f?.shape ?? ANY)}`);
    }
    return `{${parts.join(',')}}`;
  }
  for (const f of fields) {
    known.add(f.key);
    const v = obj[f.key];
    if (v === undefined) continue;
    if (f.omitEmpty && isEmpty(v)) continue;
    parts.push(`${goString(f.key)}:${encodeGoJson(v, f.shape ?? ANY)}`);
  }
  const rest = Object.keys(obj)
    .filter((k) => !known.has(k) && obj[k] !== undefined)
    .sort(compareKeys);
  for (const k of rest) parts.push(`${goString(k)}:${encodeGoJson(obj[k], ANY)}`);
  return `{${parts.join(',')}}`;
}

function isEmpty(v: unknown): boolean {
  if (v === null || v === false || v === 0 || v === '') return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === 'object') return Object.keys(v as object).every((k) => (v as Record<string, unknown>)[k] === undefined);
  return false;
}

/** Go sorts map keys by their UTF-8 bytes. */
function compareKeys(a: string, b: string): number {
  const x = UTF8.encode(a);
  const y = UTF8.encode(b);
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}

const UTF8 = new TextEncoder();

const GO_ESCAPES: Record<string, string> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

/** A JSON string literal escaped as Go's encoder escapes it (HTML-safe). */
export function goString(s: string): string {
  return JSON.stringify(s).replace(/[<>&\u2028\u2029]/g, (c) => GO_ESCAPES[c]!);
}
