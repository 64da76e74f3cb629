/**
 * The Dockerfile parser: text → one node per instruction, as BuildKit's parser.Parse (same
 * tree, line numbers, comments, warnings, heredocs and error messages). Pure and synchronous;
 * safe to call concurrently.
 */
import { KilnError } from '../../api.ts';
import { trimLeftSpace } from '../shell/go-unicode.ts';
import { createDirectiveParser } from './directives.ts';
import { heredocsFromLine } from './heredoc.ts';
import { dispatch, makeNode, parseIgnore } from './line-parsers.ts';
import {
  commentText,
  createLineScanner,
  discardBOM,
  isComment,
  isEmptyContinuationLine,
  trimContinuation,
  trimLeadingTabs,
  trimNewline,
} from './lines.ts';
import type { Node, ParseResult, ParseWarning } from './node.ts';
import { splitCommand } from './split-command.ts';

export interface ParseOptions {
  /** File name used in error locations; default `Dockerfile`. */
  file?: string;
}

const HEREDOC_INSTRUCTIONS = new Set(['add', 'copy', 'run']);
/**
 * The longest instruction, continuation lines joined: 1 MiB. BuildKit has no such limit (its
 * lines stop at 64 KiB each, but continuations are unbounded); past it, a Dockerfile is an
 * attack on the converter's memory and time, not a build.
 */
export const MAX_LOGICAL_LINE = 1 << 20;
const EMPTY_CONTINUATION_URL = 'https://docs.docker.com/go/dockerfile/rule/no-empty-continuation/';

/** Splits one joined instruction line into a node (ONBUILD's trigger included). */
function nodeFromLine(line: string, escape: string, comments: string[]): Node {
  const { cmd, flags, args } = splitCommand(line, escape);
  const fn = dispatch[cmd.toLowerCase()] ?? parseIgnore;
  const { next, json } = fn(args, escape, (sub) => nodeFromLine(sub, escape, []));
  return makeNode({ value: cmd, original: line, flags, next: next ?? [], json, prevComment: [...comments] });
}

function canContainHeredoc(node: Node): boolean {
  let n = node;
  const trigger = n.next[0]?.children[0];
  if (n.value.toLowerCase() === 'onbuild' && trigger) n = trigger;
  return HEREDOC_INSTRUCTIONS.has(n.value.toLowerCase()) && !n.json;
}

/**
 * Parses a Dockerfile. Throws a KilnError (kind 'input') located at BuildKit's line range on
 * a syntax error, a bad parser directive, an unterminated heredoc or a file without
 * instructions.
 */
export function parse(text: string, options: ParseOptions = {}): ParseResult {
  const file = options.file ?? 'Dockerfile';
  const fail = (err: unknown, start: number, end: number): never => {
    const message = err instanceof Error ? err.message : String(err);
    throw new KilnError(message, {
      kind: 'input',
      location: { file, startLine: start, endLine: Math.max(start, end) },
      cause: err,
    });
  };

  let escape = '\\';
  const directives = createDirectiveParser();
  /** Newline (and optionally leading blanks) removed, directives applied, comments blanked. */
  const processLine = (token: string, stripLeft: boolean): { line: string; directive: boolean } => {
    let t = trimNewline(token);
    if (stripLeft) t = trimLeftSpace(t);
    const d = directives.parseLine(t);
    if (d?.name === 'escape') {
      if (d.value !== '`' && d.value !== '\\') {
        throw new Error(`invalid escape token '${d.value}' does not match \` or \\`);
      }
      escape = d.value;
    }
    return { line: isComment(t) ? '' : t, directive: d !== null };
  };

  const scanner = createLineScanner(text);
  const children: Node[] = [];
  const warnings: ParseWarning[] = [];
  let comments: string[] = [];
  let currentLine = 0;

  for (let raw = scanner.scan(); raw !== null; raw = scanner.scan()) {
    const first = currentLine === 0 ? discardBOM(raw) : raw;
    if (isComment(first)) {
      const comment = commentText(first);
      if (comment === '') comments = [];
      else comments.push(comment);
    }
    let processed: { line: string; directive: boolean } = { line: '', directive: false };
    try {
      processed = processLine(first, true);
    } catch (err) {
      fail(err, currentLine, 0);
    }
    if (processed.directive) comments.pop();
    currentLine++;

    const startLine = currentLine;
    let { line: joined, end: isEnd } = trimContinuation(processed.line, escape);
    if (isEnd && joined === '') continue;

    let hasEmptyContinuationLine = false;
    while (!isEnd) {
      const cont = scanner.scan();
      if (cont === null) break;
      let part = '';
      try {
        part = processLine(cont, false).line;
      } catch (err) {
        fail(err, currentLine, 0);
      }
      currentLine++;
      if (isComment(cont)) continue;
      if (isEmptyContinuationLine(part)) {
        hasEmptyContinuationLine = true;
        continue;
      }
      const t = trimContinuation(part, escape);
      isEnd = t.end;
      joined += t.line;
      if (joined.length > MAX_LOGICAL_LINE) fail(new Error(`instruction longer than ${MAX_LOGICAL_LINE} characters (1 MiB) after joining its continuation lines`), startLine, currentLine);
    }

    if (hasEmptyContinuationLine) {
      warnings.push({
        short: 'Empty continuation line found in: ' + joined,
        url: EMPTY_CONTINUATION_URL,
        startLine: currentLine,
        endLine: currentLine,
      });
    }

    let node = makeNode();
    try {
      node = nodeFromLine(joined, escape, comments);
    } catch (err) {
      fail(err, startLine, currentLine);
    }

    if (canContainHeredoc(node) && joined.includes('<<')) {
      let docs: ReturnType<typeof heredocsFromLine> = [];
      try {
        docs = heredocsFromLine(joined);
      } catch (err) {
        fail(err, startLine, currentLine);
      }
      for (const doc of docs) {
        let terminated = false;
        let content = doc.content;
        for (let body = scanner.scan(); body !== null; body = scanner.scan()) {
          currentLine++;
          let candidate = trimNewline(body);
          if (doc.chomp) candidate = trimLeadingTabs(candidate);
          if (candidate === doc.name) {
            terminated = true;
            break;
          }
          content += body;
        }
        if (!terminated) fail(new Error('unterminated heredoc'), startLine, currentLine);
        node.heredocs.push({ ...doc, content });
      }
    }

    node.startLine = startLine;
    node.endLine = currentLine;
    children.push(node);
    comments = [];
  }

  if (children.length === 0) fail(new Error('file with no instructions'), currentLine, 0);
  const scanError = scanner.error();
  if (scanError !== null) fail(new Error(scanError), currentLine + 1, 0); // the line that did not fit

  const ast = makeNode({ children, startLine: children[0]!.startLine, endLine: children[children.length - 1]!.endLine });
  return { ast, escapeToken: escape, warnings };
}
