/**
 * The per-instruction argument parsers (BuildKit line_parsers.go). Each takes the text after
 * the keyword and flags and returns the argument nodes (BuildKit's Next chain as a list; null
 * for no chain) and whether the exec (JSON) form was used. Nothing is expanded here.
 */
import { goQuote, isSpace, trimLeftSpace } from '../shell/go-unicode.ts';
import { parseGoJson } from './go-json.ts';
import type { Node } from './node.ts';
import { isSpaceByte, splitWhitespace } from './split-command.ts';

export interface ParsedArgs {
  next: Node[] | null;
  json: boolean;
}

export type LineParser = (rest: string, escape: string, subCommand: SubCommandParser) => ParsedArgs;
/** Parses a nested instruction (ONBUILD's trigger). */
export type SubCommandParser = (line: string) => Node;

export function makeNode(fields: Partial<Node> = {}): Node {
  return {
    value: '',
    next: [],
    children: [],
    heredocs: [],
    json: false,
    original: '',
    flags: [],
    startLine: 0,
    endLine: 0,
    prevComment: [],
    ...fields,
  };
}

const args = (values: string[] | null, json = false): ParsedArgs => ({
  next: values === null ? null : values.map((value) => makeNode({ value })),
  json,
});

export const NOT_STRING_ARRAY = 'when using JSON array syntax, arrays must be comprised of strings only';

/** Unknown instructions keep one empty argument node, as BuildKit's parseIgnore. */
export const parseIgnore: LineParser = () => ({ next: [makeNode()], json: false });

/** ONBUILD: one node whose `children` hold the trigger instruction. */
export const parseSubCommand: LineParser = (rest, _escape, sub) => {
  if (rest === '') return { next: null, json: false };
  return { next: [makeNode({ children: [sub(rest)] })], json: false };
};

/** Splits on whitespace, keeping quotes and escapes (they are removed later by the lexer). */
export function parseWords(rest: string, escape: string): string[] {
  const IN_SPACES = 0;
  const IN_WORD = 1;
  const IN_QUOTE = 2;
  const chars = Array.from(rest);
  const words: string[] = [];
  let phase = IN_SPACES;
  let quote = '';
  let blankOK = false;
  let word = '';
  for (let i = 0; i <= chars.length; i++) {
    let ch = chars[i];
    if (phase === IN_SPACES) {
      if (ch === undefined) break;
      if (isSpace(ch)) continue;
      phase = IN_WORD;
    }
    if (ch === undefined) {
      if (blankOK || word.length > 0) words.push(word);
      break;
    }
    if (phase === IN_WORD) {
      if (isSpace(ch)) {
        phase = IN_SPACES;
        if (blankOK || word.length > 0) words.push(word);
        word = '';
        blankOK = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
        phase = IN_QUOTE;
      }
      if (ch === escape) {
        if (i + 1 === chars.length) continue;
        word += ch;
        i++;
        ch = chars[i]!;
      }
      word += ch;
      continue;
    }
    if (ch === quote) phase = IN_WORD;
    if (ch === escape && quote !== "'") {
      if (i + 1 === chars.length) {
        phase = IN_WORD;
        continue;
      }
      i++;
      word += ch;
      ch = chars[i]!;
    }
    word += ch;
  }
  return words;
}

/** ENV / LABEL: `k=v ...` as triples (key, value, "="), legacy `k v w` as (key, "v w", ""). */
function parseNameVal(rest: string, key: string, escape: string): ParsedArgs {
  const words = parseWords(rest, escape);
  if (words.length === 0) return { next: null, json: false };
  if (!words[0]!.includes('=')) {
    const parts = splitWhitespace(rest, 2);
    if (parts.length < 2) throw new Error(`${key} must have two arguments`);
    return args([parts[0]!, parts[1]!, '']);
  }
  const values: string[] = [];
  for (const word of words) {
    const eq = word.indexOf('=');
    if (eq < 0) {
      throw new Error(`Syntax error - can't find = in ${goQuote(word)}. Must be of the form: name=value`);
    }
    values.push(word.slice(0, eq), word.slice(eq + 1), '=');
  }
  return args(values);
}

export const parseEnv: LineParser = (rest, escape) => parseNameVal(rest, 'ENV', escape);
export const parseLabel: LineParser = (rest, escape) => parseNameVal(rest, 'LABEL', escape);

/** ARG: each word (`name` or `name=value`) is one node. */
export const parseNameOrNameVal: LineParser = (rest, escape) => {
  const words = parseWords(rest, escape);
  return args(words.length === 0 ? null : words);
};

export const parseStringsWhitespaceDelimited: LineParser = (rest) =>
  args(rest === '' ? null : splitWhitespace(rest, -1));

export const parseString: LineParser = (rest) => args(rest === '' ? null : [rest]);

/** Throws NOT_STRING_ARRAY for a JSON array with a non-string member; null if not a JSON array. */
function parseJSON(rest: string): ParsedArgs | null {
  const text = trimLeftSpace(rest);
  if (!text.startsWith('[')) return null;
  let parsed: unknown;
  try {
    parsed = parseGoJson(text);
  } catch {
    return null;
  }
  if (!Array.isArray(parsed)) return null;
  if (!parsed.every((x): x is string => typeof x === 'string')) throw new Error(NOT_STRING_ARRAY);
  return args(parsed.length === 0 ? null : parsed, true);
}

/** RUN, CMD, ENTRYPOINT, SHELL: a JSON array, else the whole rest as one node. */
export const parseMaybeJSON: LineParser = (rest) => {
  if (rest === '') return { next: null, json: false };
  return parseJSON(rest) ?? args([rest]);
};

/** ADD, COPY, VOLUME: a JSON array, else whitespace-separated words. */
export const parseMaybeJSONToList: LineParser = (rest, escape, sub) =>
  parseJSON(rest) ?? parseStringsWhitespaceDelimited(rest, escape, sub);

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** HEALTHCHECK: the type word (CMD / NONE), then the command as parseMaybeJSON. */
export const parseHealthConfig: LineParser = (rest, escape, sub) => {
  const b = encoder.encode(rest);
  let sep = 0;
  while (sep < b.length && !isSpaceByte(b[sep]!)) sep++;
  let nxt = sep;
  while (nxt < b.length && isSpaceByte(b[nxt]!)) nxt++;
  if (sep === 0) return { next: null, json: false };
  const typ = decoder.decode(b.subarray(0, sep));
  const cmd = parseMaybeJSON(decoder.decode(b.subarray(nxt)), escape, sub);
  return { next: [makeNode({ value: typ }), ...(cmd.next ?? [])], json: cmd.json };
};

/** Instruction keyword (lower-case) → its argument parser; others use parseIgnore. */
export const dispatch: Record<string, LineParser> = {
  add: parseMaybeJSONToList,
  arg: parseNameOrNameVal,
  cmd: parseMaybeJSON,
  copy: parseMaybeJSONToList,
  entrypoint: parseMaybeJSON,
  env: parseEnv,
  expose: parseStringsWhitespaceDelimited,
  from: parseStringsWhitespaceDelimited,
  healthcheck: parseHealthConfig,
  label: parseLabel,
  maintainer: parseString,
  onbuild: parseSubCommand,
  run: parseMaybeJSON,
  shell: parseMaybeJSON,
  stopsignal: parseString,
  user: parseString,
  volume: parseMaybeJSONToList,
  workdir: parseString,
};
