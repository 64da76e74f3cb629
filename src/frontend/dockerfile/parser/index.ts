/** The Dockerfile parser (BuildKit frontend/dockerfile/parser). */
export { parse } from './parse.ts';
export type { ParseOptions } from './parse.ts';
export { detectSyntax, parseDirectiveValue } from './directives.ts';
export type { DirectiveName, SyntaxDirective } from './directives.ts';
export { chompHeredocContent, heredocsFromLine, parseHeredoc } from './heredoc.ts';
export { toDebugJson } from './debug-json.ts';
export type { DebugHeredoc, DebugInstruction } from './debug-json.ts';
export { parseWords } from './line-parsers.ts';
export type { Heredoc, Node, ParseResult, ParseWarning } from './node.ts';
