import { usageError, type KilnError } from '../util/errors.ts';

/**
 * cac reports unknown options camel-cased and with `no-` stripped (`--suchFlag` for
 * `--no-such-flag`). This finds the flag as the user typed it and the nearest known one.
 */
const camel = (s: string) => s.replace(/^no-/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

export function describeUnknownOption(message: string, argv: string[], known: string[]): string | undefined {
  const m = /Unknown option `-{1,2}([^`]+)`/.exec(message);
  if (!m) return undefined;
  const typed = argv.find((a) => a.startsWith('-') && camel(a.replace(/^-+/, '').split('=')[0]!) === m[1]) ?? `--${m[1]}`;
  const name = typed.split('=')[0]!;
  const near = nearest(name.replace(/^-+/, ''), known);
  return `unknown flag: ${name}${near ? ` (did you mean --${near}?)` : ''}`;
}

/** An attribute the spec (`label`, e.g. `output type=oci`) does not know: the nearest known one, or the list. */
export function unknownAttribute(label: string, key: string, known: string[], none: string): KilnError {
  const near = nearest(key, known);
  return usageError(`${label}: unknown attribute "${key}"${near ? ` (did you mean ${near}?)` : ''}`, known.length ? `known: ${known.join(', ')}` : none);
}

export function nearest(word: string, options: string[]): string | undefined {
  let best: string | undefined;
  let bestD = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const o of options) {
    const d = distance(word, o);
    if (d < bestD) {
      bestD = d;
      best = o;
    }
  }
  return best;
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const t = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = t;
    }
  }
  return row[b.length]!;
}
