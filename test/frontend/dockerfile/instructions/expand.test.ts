import { describe, expect, test } from 'bun:test';
import {
  expandCommand, expandMounts, parseInstruction, type Command, type Expander,
} from '../../../../src/frontend/dockerfile/instructions/index.ts';
import { kvArgs, node } from './nodes.ts';

/** A stand-in for the shell lexer: `$NAME` → value (quotes untouched), words split on blanks. */
const env: Record<string, string> = { A: 'aa', P: '80 443/udp', U: 'app', D: '/srv', S: 'SIGINT', V: '/v1' };
const sub = (s: string) => s.replace(/\$(\w+)/g, (_, k: string) => env[k] ?? '');
const calls: string[] = [];
const ex: Expander = {
  word: (s) => (calls.push(`word:${s}`), sub(s)),
  words: (s) => (calls.push(`words:${s}`), sub(s).split(/\s+/).filter(Boolean)),
  raw: (s) => (calls.push(`raw:${s}`), sub(s)),
};

function expanded<K extends Command['kind']>(cmd: Command, _kind?: K) {
  calls.length = 0;
  const before = structuredClone(cmd);
  const out = expandCommand(cmd, ex);
  expect(cmd).toEqual(before); // the input is never modified
  return out as Extract<Command, { kind: K }>;
}

describe('expandCommand expands what BuildKit expands', () => {
  test('ENV and LABEL keys and values', () => {
    const e = expanded(parseInstruction(node('ENV', kvArgs(['K$A', '$A-x'], ['L', 'v', '']))), 'env');
    expect(e.env).toEqual([{ key: 'Kaa', value: 'aa-x' }, { key: 'L', value: 'v', noDelim: true }]);
    const l = expanded(parseInstruction(node('LABEL', kvArgs(['l.$A', '$U']))), 'label');
    expect(l.labels).toEqual([{ key: 'l.aa', value: 'app' }]);
  });

  test('ARG keys and set values; unset values stay unset', () => {
    const a = expanded(parseInstruction(node('ARG', ['X=$A', 'Y'])), 'arg');
    expect(a.args).toEqual([{ key: 'X', value: 'aa' }, { key: 'Y' }]);
  });

  test('COPY: sources, dest, --chown, --chmod; not --from; heredoc content with raw when expandable', () => {
    const c = expanded(parseInstruction(node('COPY', ['$A', '<<X', '<<"Y"', '$D/'], {
      flags: ['--from=$A', '--chown=$U', '--chmod=$A'],
      heredocs: [{ name: 'X', content: '$A\n' }, { name: 'Y', content: '$A\n', expand: false }],
    })), 'copy');
    expect(c).toMatchObject({ sources: ['aa'], dest: '/srv/', from: '$A', chown: 'app', chmod: 'aa' });
    expect(c.sourceContents.map((h) => h.content)).toEqual(['aa\n', '$A\n']);
    expect(calls).toEqual(['word:$U', 'word:$A', 'word:$A', 'word:$D/', 'raw:$A\n']);
  });

  test('ADD: --checksum too; absent flags stay absent', () => {
    const a = expanded(parseInstruction(node('ADD', ['$A', '$D'], { flags: ['--checksum=sha256:$A'] })), 'add');
    expect(a).toMatchObject({ sources: ['aa'], dest: '/srv', checksum: 'sha256:aa' });
    expect('chown' in a).toBe(false);
  });

  test('heredoc contents stay when the expander has no raw', () => {
    const cmd = parseInstruction(node('COPY', ['<<X', '/x'], { heredocs: [{ name: 'X', content: '$A' }] }));
    const out = expandCommand(cmd, { word: sub, words: (s) => [sub(s)] });
    expect(out.kind === 'copy' && out.sourceContents[0]!.content).toBe('$A');
  });

  test('EXPOSE: each port as words', () => {
    expect(expanded(parseInstruction(node('EXPOSE', ['$P', '22'])), 'expose').ports).toEqual(['80', '443/udp', '22']);
  });

  test('STOPSIGNAL, USER, WORKDIR, VOLUME', () => {
    expect(expanded(parseInstruction(node('STOPSIGNAL', ['$S'])), 'stopsignal').signal).toBe('SIGINT');
    expect(expanded(parseInstruction(node('USER', ['$U:$U'])), 'user').user).toBe('app:app');
    expect(expanded(parseInstruction(node('WORKDIR', ['$D/app'])), 'workdir').path).toBe('/srv/app');
    expect(expanded(parseInstruction(node('VOLUME', ['$V', '/x'])), 'volume').volumes).toEqual(['/v1', '/x']);
  });
});

describe('expandCommand leaves alone what BuildKit does not expand', () => {
  const untouched = [
    node('RUN', ['echo $A'], { flags: ['--mount=target=$D'] }),
    node('RUN', ['echo', '$A'], { json: true }),
    node('CMD', ['echo $A']),
    node('ENTRYPOINT', ['$A'], { json: true }),
    node('SHELL', ['$A'], { json: true }),
    node('HEALTHCHECK', ['CMD', '$A']),
    node('MAINTAINER', ['$A']),
    node('FROM', ['$A', 'AS', 'x'], { flags: ['--platform=$A'] }),
  ];
  for (const n of untouched) {
    test(n.original, () => {
      const cmd = parseInstruction(n);
      expect(expanded(cmd)).toEqual(cmd);
      expect(calls).toEqual([]);
    });
  }
});

describe('expandMounts', () => {
  test('expands and validates each --mount value', () => {
    const run = parseInstruction(node('RUN', ['x'], { flags: ['--mount=type=cache,target=$D/c', '--mount=from=b,target=$V'] }));
    if (run.kind !== 'run') throw new Error('not run');
    expect(expandMounts(run, ex).map((m) => [m.type, m.target, m.readOnly])).toEqual([['cache', '/srv/c', false], ['bind', '/v1', true]]);
  });
  test('a value that expands to something invalid fails at expansion, as in BuildKit', () => {
    const run = parseInstruction(node('RUN', ['x'], { flags: ['--mount=type=$A'] }));
    if (run.kind !== 'run') throw new Error('not run');
    expect(() => expandMounts(run, ex)).toThrow('unsupported mount type "aa"');
  });
});
