import { describe, expect, test } from 'bun:test';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseInstruction, parseStages } from '../../../../src/frontend/dockerfile/instructions/index.ts';
import type { Node } from '../../../../src/frontend/dockerfile/parser/node.ts';
import { KilnError } from '../../../../src/util/errors.ts';
import { kvArgs, node, root } from './nodes.ts';

function thrown(f: () => unknown): KilnError {
  try {
    f();
  } catch (e) {
    if (e instanceof KilnError) return e;
    throw e;
  }
  throw new Error('expected an error');
}

describe('parseStages', () => {
  test('groups commands into stages and collects meta ARGs', () => {
    const { stages, metaArgs } = parseStages(root(
      node('ARG', ['BASE=alpine']),
      node('ARG', ['V']),
      node('FROM', ['$BASE', 'AS', 'Build'], { flags: ['--platform=$BUILDPLATFORM'], comments: ['build compiles it'] }),
      node('ARG', ['V']),
      node('RUN', ['make']),
      node('FROM', ['scratch']),
      node('COPY', ['/out', '/'], { flags: ['--from=build'] }),
    ));
    expect(metaArgs.map((a) => a.args)).toEqual([[{ key: 'BASE', value: 'alpine' }], [{ key: 'V' }]]);
    expect(stages).toHaveLength(2);
    const [a, b] = stages;
    expect(a).toMatchObject({
      name: 'build', origName: 'Build', baseName: '$BASE', platform: '$BUILDPLATFORM', comment: 'compiles it',
      location: { startLine: 3, endLine: 3 }, sourceCode: 'FROM --platform=$BUILDPLATFORM $BASE AS Build', origCmd: 'FROM',
    });
    expect(a!.commands.map((c) => c.kind)).toEqual(['arg', 'run']);
    expect(b!.name).toBeUndefined();
    expect(b!.platform).toBeUndefined();
    expect(b!.comment).toBeUndefined();
    expect(b!.baseName).toBe('scratch');
    expect(b!.commands).toHaveLength(1);
    expect(b!.commands[0]).toMatchObject({ kind: 'copy', from: 'build', location: { startLine: 7, endLine: 7 } });
  });

  test('an ARG after the first FROM belongs to the stage', () => {
    const { stages, metaArgs } = parseStages(root(node('FROM', ['a']), node('ARG', ['X'])));
    expect(metaArgs).toEqual([]);
    expect(stages[0]!.commands[0]!.kind).toBe('arg');
  });

  test('a command before any FROM fails without the line prefix, as in BuildKit', () => {
    const e = thrown(() => parseStages(root(node('ARG', ['A']), node('ENV', kvArgs(['A', 'b'])))));
    expect(e.message).toBe('no build stage in current context');
    expect(e.location).toEqual({ file: 'Dockerfile', startLine: 2, endLine: 2 });
    expect(e.kind).toBe('input');
  });

  test('instruction errors carry BuildKit\'s "dockerfile parse error on line N" prefix', () => {
    const e = thrown(() => parseStages(root(node('FROM', ['a']), node('RUN', ['x']), node('WORKDRI', ['/x'], { line: 3, endLine: 5 }))));
    expect(e.message).toBe('dockerfile parse error on line 3: unknown instruction: WORKDRI (did you mean WORKDIR?)');
    expect(e.location).toEqual({ file: 'Dockerfile', startLine: 3, endLine: 5 });
  });

  test('an empty root gives no stages', () => {
    expect(parseStages(root())).toEqual({ stages: [], metaArgs: [] });
  });
});

/** BuildKit's parser output for its own test Dockerfiles (see ../shared/conformance-vectors/README.md). */
const vectors = join(import.meta.dir, '../../../../../shared/conformance-vectors/parser');

interface AstJson {
  value: string;
  next: AstJson[];
  children: AstJson[];
  heredocs: Node['heredocs'];
  attributes: { json?: boolean };
  original: string;
  flags: string[];
  startLine: number;
  endLine: number;
  prevComment: string[];
}

function toNode(a: AstJson): Node {
  return {
    value: a.value, next: a.next.map(toNode), children: a.children.map(toNode), heredocs: a.heredocs,
    json: a.attributes.json === true, original: a.original, flags: a.flags, startLine: a.startLine,
    endLine: a.endLine, prevComment: a.prevComment,
  };
}

describe('BuildKit parser vectors (ast.json) through parseInstruction and parseStages', () => {
  test('the vectors folder exists', () => {
    if (!existsSync(vectors)) throw new Error(`conformance vectors not found at ${vectors}`);
  });
  const cases = existsSync(vectors)
    ? ['testfiles', 'extra'].flatMap((d) => readdirSync(join(vectors, d)).map((c) => join(vectors, d, c, 'ast.json'))).filter(existsSync)
    : [];
  const ast = (p: string) => toNode((JSON.parse(readFileSync(p, 'utf8')) as { ast: AstJson }).ast);

  // The instructions BuildKit's instructions package refuses in these files (from its code:
  // parseHealthcheck, BFlags.Parse, ParseInstruction), as `line: message`.
  const expectedErrors: Record<string, string[]> = {
    'testfiles/health': [
      '4: HEALTHCHECK requires at least one argument',
      '7: Missing command after HEALTHCHECK CMD',
      '10: Unknown type "CONNECT" in HEALTHCHECK (try CMD)',
    ],
    'testfiles/flags': [
      '3: unknown flag: --user', '4: unknown flag: --doit', '5: unknown flag: --user', '6: unknown flag: --doit',
      '8: unknown flag: --doit', '9: unknown flag: --doit', '10: unknown flag: --doit',
    ],
    'extra/heredoc-extract': ['9: unknown instruction: INVALID'],
  };

  for (const p of cases) {
    const name = p.split('/').slice(-3, -1).join('/');
    test(name, () => {
      const r = ast(p);
      const errors: string[] = [];
      const ok: Node[] = [];
      for (const n of r.children) {
        try {
          parseInstruction(n);
          ok.push(n);
        } catch (e) {
          errors.push(`${n.startLine}: ${(e as Error).message}`);
        }
      }
      expect(errors).toEqual(expectedErrors[name] ?? []);
      // The instructions that parse also group: each file is a fragment, so give it a FROM.
      r.children = ok;
      if (!ok.some((c) => c.value.toLowerCase() === 'from')) r.children.unshift(node('FROM', ['scratch']));
      const { stages, metaArgs } = parseStages(r);
      const count = stages.reduce((n, s) => n + s.commands.length + 1, metaArgs.length);
      expect(count).toBe(r.children.length);
    });
  }

  test('health: durations and retries as BuildKit stores them', () => {
    const r = ast(join(vectors, 'testfiles/health/ast.json'));
    const at = (line: number) => parseInstruction(r.children.find((c) => c.startLine === line)!);
    expect(at(5)).toMatchObject({ health: { test: ['CMD-SHELL', '/app/check.sh --quiet'], interval: 5e9, timeout: 3e9, retries: 3 } });
    expect(at(8)).toMatchObject({ health: { test: ['CMD-SHELL', 'a b'] } });
    expect(at(9)).toMatchObject({ health: { test: ['CMD', 'foo'], timeout: 3e9 } });
    expect((at(11) as { health: object }).health).toEqual({ test: ['CMD', 'foo'], interval: 5e9 });
  });
});
