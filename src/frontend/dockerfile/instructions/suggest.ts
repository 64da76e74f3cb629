/**
 * "did you mean X?" suggestions, as BuildKit's util/suggest: the closest option by Levenshtein
 * distance, only if that distance is below 3; none when the value matches an option exactly.
 */

/** Classic Levenshtein edit distance (insert, delete, substitute all cost 1), by code point. */
export function levenshtein(a: string, b: string): number {
  const s = [...a];
  const t = [...b];
  if (s.length === 0) return t.length;
  if (t.length === 0) return s.length;
  let prev = Array.from({ length: t.length + 1 }, (_, i) => i);
  for (let i = 1; i <= s.length; i++) {
    const cur = [i];
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
    }
    prev = cur;
  }
  return prev[t.length]!;
}

function matchCase(val: string, orig: string): string {
  if (orig === orig.toLowerCase()) return val.toLowerCase();
  if (orig === orig.toUpperCase()) return val.toUpperCase();
  return val;
}

/**
 * The option closest to `val` (distance < 3), or undefined. Options are tried in the order
 * given; on a tie the first wins. Case-insensitive search returns the option in `val`'s case.
 */
export function suggest(val: string, options: readonly string[], caseSensitive: boolean): string | undefined {
  const v = caseSensitive ? val : val.toLowerCase();
  let match: string | undefined;
  let min = 3;
  for (const raw of options) {
    const opt = caseSensitive ? raw : raw.toLowerCase();
    if (opt === v) return undefined;
    const d = levenshtein(v, opt);
    if (d < min) {
      match = caseSensitive ? opt : matchCase(opt, val);
      min = d;
    }
  }
  return match;
}

/** `message` plus BuildKit's ` (did you mean X?)` when a suggestion exists. */
export function withSuggestion(message: string, val: string, options: readonly string[], caseSensitive: boolean): string {
  const m = suggest(val, options, caseSensitive);
  return m === undefined ? message : `${message} (did you mean ${m}?)`;
}
