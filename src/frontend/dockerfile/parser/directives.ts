/**
 * Parser directives (`# syntax=`, `# escape=`, `# check=`) and `# syntax=` detection, as
 * BuildKit's parser/directives.go: directives are only recognised in the leading run of
 * comment lines; the first line that is not a directive ends that run for good.
 */
import { trimLeftSpace } from '../shell/go-unicode.ts';
import { parseGoJson } from './go-json.ts';
import { discardBOM } from './lines.ts';

export type DirectiveName = 'syntax' | 'escape' | 'check';

export interface Directive {
  name: DirectiveName;
  value: string;
  /** 1-based line of the directive. */
  line: number;
}

export interface DirectiveParser {
  /** Feeds one line (without its newline). Throws on a repeated directive. */
  parseLine(line: string): Directive | null;
}

const VALID = new Set<string>(['syntax', 'escape', 'check']);
// Go: ^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$ with \s = [\t\n\f\r ] and `.` excluding \n.
const DIRECTIVE_RE = /^([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*([^\n]+?)[\t\n\f\r ]*$/;

/** A fresh directive parser; `firstLine` is the number of lines already skipped (shebang). */
export function createDirectiveParser(commentPrefix = '#', firstLine = 0): DirectiveParser {
  let line = firstLine;
  let done = false;
  const seen = new Set<string>();
  return {
    parseLine(text) {
      line++;
      if (done) return null;
      if (!text.startsWith(commentPrefix)) {
        done = true;
        return null;
      }
      const m = DIRECTIVE_RE.exec(trimLeftSpace(text.slice(commentPrefix.length)));
      const name = m?.[1]?.toLowerCase();
      if (!m || name === undefined || !VALID.has(name)) {
        done = true;
        return null;
      }
      if (seen.has(name)) throw new Error(`only one ${name} parser directive can be used`);
      seen.add(name);
      return { name: name as DirectiveName, value: m[2]!, line };
    },
  };
}

export interface SyntaxDirective {
  /** The frontend reference: the first space-separated word of the value. */
  ref: string;
  /** The whole directive value. */
  cmdline: string;
  startLine: number;
  endLine: number;
}

/** bufio.ScanLines: split on `\n`, drop one trailing `\r`, no empty last line. */
function scanLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}

function fromParser(key: DirectiveName, text: string, parser: DirectiveParser): SyntaxDirective | null {
  const found: Directive[] = [];
  try {
    for (const l of scanLines(text)) {
      const d = parser.parseLine(l);
      if (d) found.push(d);
    }
  } catch {
    // BuildKit keeps the directives read before the error.
  }
  const d = found.find((x) => x.name === key);
  if (!d) return null;
  const sp = d.value.indexOf(' ');
  return { ref: sp < 0 ? d.value : d.value.slice(0, sp), cmdline: d.value, startLine: d.line, endLine: d.line };
}

function parseDirective(key: DirectiveName, input: string, anyFormat: boolean): SyntaxDirective | null {
  let text = discardBOM(input);
  let line = 0;
  const nl = text.indexOf('\n');
  if ((nl < 0 ? text : text.slice(0, nl)).startsWith('#!')) {
    text = nl < 0 ? '' : text.slice(nl + 1);
    line = 1;
  }
  const hash = fromParser(key, text, createDirectiveParser('#', line));
  if (hash || !anyFormat) return hash;
  const slashes = fromParser(key, text, createDirectiveParser('//', line));
  if (slashes) return slashes;
  let json: unknown;
  try {
    json = parseGoJson(text);
  } catch {
    return null;
  }
  if (json !== null && typeof json === 'object' && !Array.isArray(json)) {
    const v = (json as Record<string, unknown>)[key];
    if (typeof v === 'string') return { ref: v, cmdline: v, startLine: line, endLine: line };
  }
  return null;
}

/**
 * The frontend named by a `# syntax=` directive (or `//syntax=`, or a JSON document's
 * `"syntax"` key), or null. A `#!` first line is skipped. Never throws.
 */
export function detectSyntax(text: string): SyntaxDirective | null {
  return parseDirective('syntax', text, true);
}

/** The value of a `# key=` directive (only the `#` form), or null. */
export function parseDirectiveValue(key: DirectiveName, text: string): SyntaxDirective | null {
  return parseDirective(key, text, false);
}
