import { describe, expect, test } from 'bun:test';
import { parse } from '../../../../src/frontend/dockerfile/parser/index.ts';
import { KilnError } from '../../../../src/util/errors.ts';

function parseError(text: string): KilnError {
  try {
    parse(text);
  } catch (err) {
    if (err instanceof KilnError) return err;
    throw err;
  }
  throw new Error('expected a parse error');
}

describe('parse: comments', () => {
  test('prevComment collects comments above an instruction; a bare # resets, blank lines do not', () => {
    const r = parse('# c1\n#\n# c2\n\n# c3\nFROM x\nRUN a\n');
    expect(r.ast.children[0]!.prevComment).toEqual(['c2', 'c3']);
    expect(r.ast.children[1]!.prevComment).toEqual([]);
  });

  test('directives are not comments; the first non-directive comment ends directives', () => {
    const r = parse('# syntax=x\n# hello\n# escape=`\nFROM y\n');
    expect(r.ast.children[0]!.prevComment).toEqual(['hello', 'escape=`']);
    expect(r.escapeToken).toBe('\\');
  });

  test('an indented comment loses its first byte, not its #', () => {
    const r = parse('  # indented\nFROM x\n');
    expect(r.ast.children[0]!.prevComment).toEqual(['# indented']);
  });
});

describe('parse: lines', () => {
  test('CRLF line endings are trimmed, continued lines keep their leading blanks', () => {
    const r = parse('FROM busybox\r\nRUN echo a \\\r\n  b\r\n');
    const run = r.ast.children[1]!;
    expect(run.original).toBe('RUN echo a   b');
    expect(run.next.map((n) => n.value)).toEqual(['echo a   b']);
    expect([run.startLine, run.endLine]).toEqual([2, 3]);
    expect([r.ast.startLine, r.ast.endLine]).toEqual([1, 3]);
  });

  test('empty continuation lines give BuildKit\'s warning at the last line', () => {
    const r = parse('FROM x\nRUN a \\\n\n  b\n');
    expect(r.warnings).toEqual([
      {
        short: 'Empty continuation line found in: RUN a   b',
        url: 'https://docs.docker.com/go/dockerfile/rule/no-empty-continuation/',
        startLine: 4,
        endLine: 4,
      },
    ]);
  });

  test('the escape directive switches the continuation character and is reported', () => {
    const r = parse('# escape=`\nFROM x\nRUN a \\\nRUN b `\n c\n');
    expect(r.escapeToken).toBe('`');
    expect(r.ast.children.map((c) => c.original)).toEqual(['FROM x', 'RUN a \\', 'RUN b  c']);
  });

  test('an escaped escape at the end of a line is not a continuation', () => {
    const r = parse('FROM x\nRUN a \\\\\nRUN b\n');
    expect(r.ast.children.map((c) => c.original)).toEqual(['FROM x', 'RUN a \\\\', 'RUN b']);
  });
});

describe('parse: nodes', () => {
  test('ONBUILD keeps the trigger as a child node with its own original text', () => {
    const r = parse('FROM x\nONBUILD RUN --mount=type=cache,target=/c echo hi\n');
    const trigger = r.ast.children[1]!.next[0]!.children[0]!;
    expect(trigger.value).toBe('RUN');
    expect(trigger.flags).toEqual(['--mount=type=cache,target=/c']);
    expect(trigger.original).toBe('RUN --mount=type=cache,target=/c echo hi');
    expect(trigger.next.map((n) => n.value)).toEqual(['echo hi']);
  });

  test('heredoc file descriptor and quoting', () => {
    const r = parse('FROM x\nRUN 3<<EOF <<"B"\none\nEOF\ntwo\nB\n');
    expect(r.ast.children[1]!.heredocs).toEqual([
      { name: 'EOF', fileDescriptor: 3, expand: true, chomp: false, content: 'one\n' },
      { name: 'B', fileDescriptor: 0, expand: false, chomp: false, content: 'two\n' },
    ]);
  });

  test('flags are read byte by byte, as BuildKit does (non-ASCII comes out as Latin-1)', () => {
    // é is C3 A9: two Latin-1 characters. à is C3 A0, and Go's IsSpace(0xA0) ends the flag.
    const r = parse('FROM x\nCOPY --chown=é a b\nCOPY --chown=à a b\n');
    expect(r.ast.children[1]!.flags).toEqual(['--chown=\u00c3\u00a9']);
    expect(r.ast.children[2]!.flags).toEqual(['--chown=\u00c3']);
    expect(r.ast.children[2]!.next.map((n) => n.value)).toEqual(['a', 'b']);
  });
});

describe('parse: errors carry BuildKit\'s messages and line ranges', () => {
  test('argument errors span the whole instruction', () => {
    const err = parseError('FROM x\nENV \\\n  PATH\n');
    expect(err.kind).toBe('input');
    expect(err.message).toBe('ENV must have two arguments');
    expect(err.location).toEqual({ file: 'Dockerfile', startLine: 2, endLine: 3 });
  });

  test('unterminated heredoc spans to the end of the file', () => {
    const err = parseError('FROM x\nRUN <<EOF\na\nb\n');
    expect(err.message).toBe('unterminated heredoc');
    expect(err.location).toEqual({ file: 'Dockerfile', startLine: 2, endLine: 4 });
  });

  test('directive errors use BuildKit\'s line (the number of lines read before it)', () => {
    const err = parseError('# escape=`\n# escape=\\\nFROM x\n');
    expect(err.message).toBe('only one escape parser directive can be used');
    expect(err.location).toEqual({ file: 'Dockerfile', startLine: 1, endLine: 1 });
  });

  test('a file without instructions', () => {
    const err = parseError('# only a comment\n\n');
    expect(err.message).toBe('file with no instructions');
    expect(err.location?.startLine).toBe(2);
  });

  test('a line longer than 64 KiB stops the parse', () => {
    const err = parseError('FROM x\nRUN ' + 'a'.repeat(70_000) + '\n');
    expect(err.message).toBe('dockerfile line greater than max allowed size of 65535');
    expect(err.location).toEqual({ file: 'Dockerfile', startLine: 2, endLine: 2 });
  });

  test('a custom file name is used in locations', () => {
    try {
      parse('', { file: 'build/Dockerfile.dev' });
      throw new Error('no error');
    } catch (err) {
      expect((err as KilnError).location?.file).toBe('build/Dockerfile.dev');
    }
  });
});
