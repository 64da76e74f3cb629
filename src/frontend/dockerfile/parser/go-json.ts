/**
 * `JSON.parse` with the results of Go's `json.Unmarshal` into `any`: a number too large for a
 * float64 is an error, and lone UTF-16 surrogates (from `\ud800` escapes) become U+FFFD.
 */
export function parseGoJson(text: string): unknown {
  return fix(JSON.parse(text));
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function fix(v: unknown): unknown {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error('json: number out of range for float64');
    return v;
  }
  if (typeof v === 'string') return v.replace(LONE_SURROGATE, '\uFFFD');
  if (Array.isArray(v)) return v.map(fix);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = Object.create(null);
    for (const [k, x] of Object.entries(v)) out[k.replace(LONE_SURROGATE, '\uFFFD')] = fix(x);
    return out;
  }
  return v;
}
