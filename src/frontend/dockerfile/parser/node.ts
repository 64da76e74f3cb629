/**
 * The Dockerfile syntax tree, as BuildKit's parser builds it (frontend/dockerfile/parser).
 * One `Node` per instruction under the root; an instruction's arguments are its `next`
 * list (BuildKit's Next chain, flattened). Nothing here is expanded: `$VAR` stays as written.
 */

export interface Heredoc {
  /** The delimiter word, without quotes. */
  name: string;
  /** 0 = stdin (the default), or the N of `N<<EOF`. */
  fileDescriptor: number;
  /** false when the delimiter was quoted: no variable expansion in the body. */
  expand: boolean;
  /** true for `<<-`: leading tabs are stripped from the body lines. */
  chomp: boolean;
  content: string;
}

export interface Node {
  /** Instruction keyword as written (case kept) for instruction nodes; argument text for argument nodes. */
  value: string;
  /** Argument nodes, in order (BuildKit's Next chain). For ONBUILD: one node whose `children` holds the trigger. */
  next: Node[];
  /** Root: the instructions. ONBUILD: next[0].children = [trigger instruction]. */
  children: Node[];
  heredocs: Heredoc[];
  /** true when the arguments were written in exec (JSON array) form. */
  json: boolean;
  /** The instruction line as joined (continuations removed). */
  original: string;
  /** `--flag=value` strings, in order, as written. */
  flags: string[];
  /** 1-based, inclusive; 0 for argument nodes. */
  startLine: number;
  endLine: number;
  /** Comment lines directly above the instruction, without the leading `# `. */
  prevComment: string[];
}

export interface ParseWarning {
  short: string;
  url: string;
  startLine: number;
  endLine: number;
}

export interface ParseResult {
  ast: Node;
  /** The escape character in force (`\` or a backtick). */
  escapeToken: string;
  warnings: ParseWarning[];
}
