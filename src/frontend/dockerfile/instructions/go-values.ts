/**
 * The few Go standard-library value parsers BuildKit's instruction code relies on, with Go's
 * accepted syntax and error wording: strconv.ParseBool/ParseUint/ParseInt, time.ParseDuration,
 * docker/go-units RAMInBytes and a single-line CSV record (tonistiigi/go-csvvalue).
 * All functions are pure and throw plain `Error`s.
 */

/** Go's strconv.Quote for the common (printable) case: double quotes, `\` and `"` escaped. */
export function goQuote(s: string): string {
  return JSON.stringify(s);
}

/** strconv.ParseBool: 1 t T TRUE true True 0 f F FALSE false False; undefined otherwise. */
export function parseGoBool(s: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s)) return false;
  return undefined;
}

/** strconv.ParseUint(s, base, bits) for base 8 or 10; undefined on syntax or range error. */
export function parseGoUint(s: string, base: 8 | 10, bits: number): number | undefined {
  const re = base === 8 ? /^[0-7]+$/ : /^[0-9]+$/;
  if (!re.test(s)) return undefined;
  const v = BigInt(base === 8 ? `0o${s}` : s);
  if (v >= 1n << BigInt(bits)) return undefined;
  return Number(v);
}

/** strconv.ParseInt(s, 10, bits); throws Go's `strconv.ParseInt: parsing "s": ...` message. */
export function parseGoInt(s: string, bits: number): number {
  if (!/^[+-]?[0-9]+$/.test(s)) throw new Error(`strconv.ParseInt: parsing ${goQuote(s)}: invalid syntax`);
  const v = BigInt(s);
  const lim = 1n << BigInt(bits - 1);
  if (v >= lim || v < -lim) throw new Error(`strconv.ParseInt: parsing ${goQuote(s)}: value out of range`);
  return Number(v);
}

const durationUnits: Record<string, bigint> = {
  ns: 1n,
  us: 1000n,
  'µs': 1000n, // U+00B5
  'μs': 1000n, // U+03BC
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

const maxInt64 = (1n << 63n) - 1n;

/**
 * time.ParseDuration: a signed sequence of decimal numbers with optional fraction and a unit
 * (ns us µs ms s m h), e.g. `1h30m`, `1.5s`, `-2ms`; `0` alone is allowed. Returns nanoseconds.
 */
export function parseGoDuration(text: string): number {
  const invalid = () => new Error(`time: invalid duration ${goQuote(text)}`);
  let s = text;
  let neg = false;
  if (s[0] === '-' || s[0] === '+') {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') throw invalid();
  let total = 0n;
  while (s !== '') {
    const m = /^([0-9]*)(?:\.([0-9]*))?/.exec(s)!;
    const intPart = m[1]!;
    const frac = m[2];
    if (intPart === '' && (frac === undefined || frac === '')) throw invalid();
    s = s.slice(m[0].length);
    const u = /^[^0-9.]*/.exec(s)![0];
    if (u === '') throw new Error(`time: missing unit in duration ${goQuote(text)}`);
    const unit = durationUnits[u];
    if (unit === undefined) throw new Error(`time: unknown unit ${goQuote(u)} in duration ${goQuote(text)}`);
    s = s.slice(u.length);
    let v = BigInt(intPart || '0') * unit;
    if (frac) {
      // Go truncates the fraction: floor(frac * unit / 10^len(frac))
      v += (BigInt(frac) * unit) / 10n ** BigInt(frac.length);
    }
    total += v;
    if (total > maxInt64 + (neg ? 1n : 0n)) throw invalid();
  }
  return Number(neg ? -total : total);
}

const binaryUnits: Record<string, number> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/** docker/go-units RAMInBytes: `64m`, `1.5GiB`, `512 kb`, `100` (binary multiples). */
export function ramInBytes(size: string): number {
  let sep = -1;
  for (let i = size.length - 1; i >= 0; i--) {
    if ('0123456789. '.includes(size[i]!)) {
      sep = i;
      break;
    }
  }
  if (sep === -1) throw new Error(`invalid size: '${size}'`);
  const num = size[sep] !== ' ' ? size.slice(0, sep + 1) : size.slice(0, sep);
  let sfx = size.slice(sep + 1);
  if (!/^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/.test(num)) {
    throw new Error(`strconv.ParseFloat: parsing ${goQuote(num)}: invalid syntax`);
  }
  let n = Number(num);
  if (n < 0) throw new Error(`invalid size: '${size}'`);
  if (sfx === '') return Math.trunc(n);
  const bad = () => new Error(`invalid suffix: '${sfx}'`);
  if (sfx.length > 3) throw bad();
  sfx = sfx.toLowerCase();
  if (sfx[0] === 'b') {
    if (sfx.length > 1) throw bad();
    return Math.trunc(n);
  }
  const mul = binaryUnits[sfx[0]!];
  if (mul === undefined) throw bad();
  n *= mul;
  if ((sfx.length === 2 && sfx[1] !== 'b') || (sfx.length === 3 && sfx.slice(1) !== 'ib')) throw bad();
  return Math.trunc(n);
}

/**
 * One CSV record (comma-separated, `"` quoting with `""` escapes, no lazy quotes), as
 * go-csvvalue's Fields. Errors use encoding/csv's wording; columns count UTF-8 bytes.
 */
export function csvFields(input: string): string[] {
  let line = input;
  if (line.endsWith('\r\n')) line = line.slice(0, -2);
  else if (line.endsWith('\n')) line = line.slice(0, -1);
  if (line === '') throw new Error('EOF');
  const bytes = (s: string) => new TextEncoder().encode(s).length;
  const err = (pos: number, what: string) => new Error(`parse error on line 1, column ${pos + 1}: ${what}`);
  const out: string[] = [];
  let pos = 0; // byte offset of `line` in the input
  for (;;) {
    if (line[0] !== '"') {
      const i = line.indexOf(',');
      const field = i >= 0 ? line.slice(0, i) : line;
      const q = field.indexOf('"');
      if (q >= 0) throw err(pos + bytes(field.slice(0, q)), 'bare " in non-quoted-field');
      out.push(field);
      if (i < 0) return out;
      pos += bytes(field) + 1;
      line = line.slice(i + 1);
      continue;
    }
    line = line.slice(1);
    pos += 1;
    let value = '';
    for (;;) {
      const i = line.indexOf('"');
      if (i < 0) throw err(pos, 'extraneous or missing " in quoted-field');
      value += line.slice(0, i);
      pos += bytes(line.slice(0, i)) + 1;
      line = line.slice(i + 1);
      if (line[0] === '"') {
        value += '"';
        line = line.slice(1);
        pos += 1;
        continue;
      }
      if (line[0] === ',') {
        out.push(value);
        line = line.slice(1);
        pos += 1;
        break;
      }
      if (line === '') {
        out.push(value);
        return out;
      }
      throw err(pos - 1, 'extraneous or missing " in quoted-field');
    }
  }
}
