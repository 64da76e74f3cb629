/**
 * Splitting an instruction line into keyword, `--flags` and the rest (BuildKit
 * split_command.go). BuildKit scans the flags byte by byte, so non-ASCII bytes in a flag come
 * out as Latin-1 characters and the bytes 0x85/0xA0 count as blanks; kiln does the same.
 */
import { trimSpace } from '../shell/go-unicode.ts';

export interface SplitCommand {
  cmd: string;
  flags: string[];
  args: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Go `regexp.MustCompile("[\t\v\f\r ]+").Split(s, n)` (n < 0: all). */
export function splitWhitespace(s: string, n: number): string[] {
  if (s === '') return [''];
  const re = /[\t\v\f\r ]+/g;
  const out: string[] = [];
  let beg = 0;
  let end = 0;
  let count = 0;
  for (let m = re.exec(s); m !== null; m = re.exec(s)) {
    if (n > 0 && count >= n) break;
    count++;
    if (n > 0 && out.length === n - 1) break;
    end = m.index;
    if (m.index + m[0].length !== 0) out.push(s.slice(beg, end));
    beg = m.index + m[0].length;
  }
  if (end !== s.length) out.push(s.slice(beg));
  return out;
}

export function splitCommand(line: string, escape: string): SplitCommand {
  const parts = splitWhitespace(trimSpace(line), 2);
  if (parts.length < 2) return { cmd: parts[0]!, flags: [], args: '' };
  const { rest, flags } = extractBuilderFlags(parts[1]!, escape);
  return { cmd: parts[0]!, flags, args: trimSpace(rest) };
}

/** Go `unicode.IsSpace(rune(b))` for one byte. */
export function isSpaceByte(b: number): boolean {
  return b === 0x20 || (b >= 0x09 && b <= 0x0d) || b === 0x85 || b === 0xa0;
}

const SPACES = 0;
const WORD = 1;
const QUOTE = 2;

/** The leading `--x=y` words (quotes and escapes removed) and the text after them. */
export function extractBuilderFlags(line: string, escape: string): { rest: string; flags: string[] } {
  const b = encoder.encode(line);
  const esc = escape.charCodeAt(0);
  const words: string[] = [];
  const restAt = (pos: number) => ({ rest: decoder.decode(b.subarray(pos)), flags: words });
  let phase = SPACES;
  let word = '';
  let quote = 0;
  let blankOK = false;
  for (let pos = 0; pos <= b.length; pos++) {
    const ch = pos < b.length ? b[pos]! : 0;
    if (phase === SPACES) {
      if (pos === b.length) break;
      if (isSpaceByte(ch)) continue;
      if (ch !== 0x2d || pos + 1 === b.length || b[pos + 1] !== 0x2d) return restAt(pos);
      phase = WORD;
    }
    if (pos === b.length) {
      if (word !== '--' && (blankOK || word.length > 0)) words.push(word);
      break;
    }
    if (phase === WORD) {
      if (isSpaceByte(ch)) {
        phase = SPACES;
        if (word === '--') return restAt(pos);
        if (blankOK || word.length > 0) words.push(word);
        word = '';
        blankOK = false;
        continue;
      }
      if (ch === 0x27 || ch === 0x22) {
        quote = ch;
        blankOK = true;
        phase = QUOTE;
        continue;
      }
      let c = ch;
      if (c === esc) {
        if (pos + 1 === b.length) continue;
        pos++;
        c = b[pos]!;
      }
      word += String.fromCharCode(c);
      continue;
    }
    // QUOTE
    if (ch === quote) {
      phase = WORD;
      continue;
    }
    let c = ch;
    if (c === esc) {
      if (pos + 1 === b.length) {
        phase = WORD;
        continue;
      }
      pos++;
      c = b[pos]!;
    }
    word += String.fromCharCode(c);
  }
  return { rest: '', flags: words };
}
