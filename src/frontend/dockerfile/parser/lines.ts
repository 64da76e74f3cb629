/**
 * Reading a Dockerfile line by line the way BuildKit's parser does (bufio.Scanner with a
 * line-ending-preserving split and Go's 64 KiB token limit) and the small per-line helpers
 * (newline/whitespace/comment trimming, the line-continuation test).
 */
import { isSpace, trimLeftSpace } from '../shell/go-unicode.ts';

/** bufio.MaxScanTokenSize: a line (with its `\n`) longer than this stops the scan. */
const MAX_TOKEN = 64 * 1024;

export interface LineScanner {
  /** The next line including its `\n` (if any), or null at the end or after an error. */
  scan(): string | null;
  /** Set once a line exceeded the size limit; no more lines are returned then. */
  error(): string | null;
}

const encoder = new TextEncoder();

export function createLineScanner(text: string): LineScanner {
  let pos = 0;
  let err: string | null = null;
  return {
    scan() {
      if (err !== null || pos >= text.length) return null;
      const nl = text.indexOf('\n', pos);
      const end = nl < 0 ? text.length : nl + 1;
      const line = text.slice(pos, end);
      // Go needs the whole token in a 64 KiB buffer; an unterminated last line also needs one
      // free byte to see EOF.
      const limit = nl < 0 ? MAX_TOKEN - 1 : MAX_TOKEN;
      if (line.length > limit / 3 && encoder.encode(line).length > limit) {
        err = `dockerfile line greater than max allowed size of ${MAX_TOKEN - 1}`;
        return null;
      }
      pos = end;
      return line;
    },
    error: () => err,
  };
}

/** Go `bytes.TrimRight(s, "\r\n")`. */
export function trimNewline(s: string): string {
  let end = s.length;
  while (end > 0 && (s[end - 1] === '\n' || s[end - 1] === '\r')) end--;
  return s.slice(0, end);
}

export function trimLeadingTabs(s: string): string {
  let i = 0;
  while (s[i] === '\t') i++;
  return s.slice(i);
}

export function isComment(line: string): boolean {
  return trimLeftSpace(line).startsWith('#');
}

export function isEmptyContinuationLine(line: string): boolean {
  return trimLeftSpace(trimNewline(line)) === '';
}

export function discardBOM(s: string): string {
  return s.startsWith('\uFEFF') ? s.slice(1) : s;
}

/**
 * BuildKit's `strings.TrimSpace(string(line[1:]))` for a comment line: it drops the first
 * *byte*, so a comment indented with a multi-byte space keeps broken UTF-8 (shown as U+FFFD).
 */
export function commentText(line: string): string {
  const first = line.codePointAt(0) ?? 0;
  const width = first < 0x80 ? 1 : first < 0x800 ? 2 : first < 0x10000 ? 3 : 4;
  const rest = '\uFFFD'.repeat(width - 1) + line.slice(first > 0xffff ? 2 : 1);
  return trimGoSpace(rest);
}

function trimGoSpace(s: string): string {
  const chars = Array.from(trimLeftSpace(s));
  while (chars.length > 0 && isSpace(chars[chars.length - 1]!)) chars.pop();
  return chars.join('');
}

/**
 * The line-continuation test (BuildKit's `([^E])E[ \t]*$|^E[ \t]*$` regexp for escape E):
 * returns the line without the escape and trailing blanks, and whether the line ended
 * (no continuation). An escaped escape (`E E` at the end) is not a continuation.
 */
export function trimContinuation(line: string, escape: string): { line: string; end: boolean } {
  let end = line.length;
  while (end > 0 && (line[end - 1] === ' ' || line[end - 1] === '\t')) end--;
  if (end === 0 || line[end - 1] !== escape) return { line, end: true };
  if (end === 1) return { line: '', end: false };
  if (line[end - 2] === escape) return { line, end: true };
  return { line: line.slice(0, end - 1), end: false };
}
