/** The Dockerfile shell lexer (BuildKit frontend/dockerfile/shell). */
export { createLexer } from './lex.ts';
export type { Lexer, LexerOptions, ProcessWordResult } from './lex.ts';
