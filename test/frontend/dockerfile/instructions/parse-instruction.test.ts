import { describe, expect, test } from 'bun:test';
import { parseInstruction, type Command } from '../../../../src/frontend/dockerfile/instructions/index.ts';
import { KilnError } from '../../../../src/util/errors.ts';
import type { Node } from '../../../../src/frontend/dockerfile/parser/node.ts';
import { kvArgs, node, onbuild } from './nodes.ts';

/** The fields every command carries, derived from the node. */
function baseOf(n: Node, kind: string) {
  return {
    kind, name: kind, location: { startLine: n.startLine, endLine: n.endLine },
    original: n.original.trim(), comments: n.prevComment,
  };
}

const ms = 1_000_000;
const s = 1000 * ms;

const positive: [string, Node, Record<string, unknown>][] = [
  ['FROM image', node('FROM', ['alpine:3.20']), { kind: 'from', baseName: 'alpine:3.20', origCmd: 'FROM' }],
  ['FROM AS lower-cases the stage name', node('from', ['img', 'As', 'Build-Stage_1.x']),
    { kind: 'from', baseName: 'img', stageName: 'build-stage_1.x', origStageName: 'Build-Stage_1.x', origCmd: 'from' }],
  ['FROM --platform', node('FROM', ['$BASE', 'AS', 'b'], { flags: ['--platform=$BUILDPLATFORM'] }),
    { kind: 'from', baseName: '$BASE', stageName: 'b', origStageName: 'b', platform: '$BUILDPLATFORM', origCmd: 'FROM' }],
  ['RUN shell form', node('RUN', ['echo $HOME && ls']),
    { kind: 'run', prependShell: true, cmdLine: ['echo $HOME && ls'], files: [], mounts: [], devices: [], flagsUsed: [] }],
  ['RUN exec form', node('RUN', ['echo', '$HOME'], { json: true }),
    { kind: 'run', prependShell: false, cmdLine: ['echo', '$HOME'], files: [], mounts: [], devices: [], flagsUsed: [] }],
  ['RUN flags', node('RUN', ['make'], {
    flags: ['--mount=type=cache,target=/root/.cache', '--network=none', '--security=insecure', '--mount=type=secret,id=npm'],
  }), {
    kind: 'run', prependShell: true, cmdLine: ['make'], files: [], devices: [],
    mounts: ['type=cache,target=/root/.cache', 'type=secret,id=npm'], network: 'none', security: 'insecure',
    flagsUsed: ['mount', 'network', 'security'],
  }],
  ['RUN --network=default --device', node('RUN', ['x'], { flags: ['--network=default', '--device=nvidia.com/gpu=all'] }), {
    kind: 'run', prependShell: true, cmdLine: ['x'], files: [], mounts: [], network: 'default',
    devices: ['nvidia.com/gpu=all'], flagsUsed: ['device', 'network'],
  }],
  ['RUN heredoc keeps content unchomped', node('RUN', ['<<-EOF'], {
    heredocs: [{ name: 'EOF', chomp: true, content: '\techo hi\n' }],
  }), {
    kind: 'run', prependShell: true, cmdLine: ['<<-EOF'], mounts: [], devices: [], flagsUsed: [],
    files: [{ name: 'EOF', fileDescriptor: 0, expand: true, chomp: true, content: '\techo hi\n' }],
  }],
  ['CMD exec', node('CMD', ['nginx', '-g', 'daemon off;'], { json: true }),
    { kind: 'cmd', prependShell: false, cmdLine: ['nginx', '-g', 'daemon off;'], files: [] }],
  ['CMD shell', node('CMD', ['echo', 'a', 'b']), { kind: 'cmd', prependShell: true, cmdLine: ['echo a b'], files: [] }],
  ['CMD [] is an empty exec form', node('CMD', [], { json: true }), { kind: 'cmd', prependShell: false, cmdLine: [], files: [] }],
  ['ENTRYPOINT exec', node('ENTRYPOINT', ['/init'], { json: true }),
    { kind: 'entrypoint', prependShell: false, cmdLine: ['/init'], files: [] }],
  ['ENTRYPOINT shell', node('ENTRYPOINT', ['exec app']), { kind: 'entrypoint', prependShell: true, cmdLine: ['exec app'], files: [] }],
  ['ENV pairs, legacy form marked noDelim', node('ENV', kvArgs(['A', '1'], ['B', '"x y"'])),
    { kind: 'env', env: [{ key: 'A', value: '1' }, { key: 'B', value: '"x y"' }] }],
  ['ENV legacy', node('ENV', kvArgs(['PATH', '/a b', ''])), { kind: 'env', env: [{ key: 'PATH', value: '/a b', noDelim: true }] }],
  ['LABEL', node('LABEL', kvArgs(['org.opencontainers.image.title', 'kiln'])),
    { kind: 'label', labels: [{ key: 'org.opencontainers.image.title', value: 'kiln' }] }],
  ['MAINTAINER', node('MAINTAINER', ['Jane <j@x.org>']), { kind: 'maintainer', maintainer: 'Jane <j@x.org>' }],
  ['EXPOSE sorts ports as strings', node('EXPOSE', ['8080/tcp', '443', '$P', '80/udp']),
    { kind: 'expose', ports: ['$P', '443', '80/udp', '8080/tcp'] }],
  ['COPY plain', node('COPY', ['a', 'b/', '/dst/']), {
    kind: 'copy', sources: ['a', 'b/'], dest: '/dst/', sourceContents: [], link: false, parents: false, exclude: [],
  }],
  ['COPY all flags', node('COPY', ['src', '/dst'], {
    flags: ['--from=build', '--chown=1000:1000', '--chmod=0755', '--link', '--parents=true', '--exclude=*.md', '--exclude=.git'],
  }), {
    kind: 'copy', sources: ['src'], dest: '/dst', sourceContents: [], from: 'build', chown: '1000:1000', chmod: '0755',
    link: true, parents: true, exclude: ['*.md', '.git'],
  }],
  ['COPY --link=false, exec form', node('COPY', ['a b', '/c'], { json: true, flags: ['--link=FALSE'] }), {
    kind: 'copy', sources: ['a b'], dest: '/c', sourceContents: [], link: false, parents: false, exclude: [],
  }],
  ['COPY heredoc sources', node('COPY', ['<<one', '<<-"two"', 'file', '/dst/'], {
    heredocs: [{ name: 'one', content: '$A\n' }, { name: 'two', expand: false, chomp: true, content: '\t\tx\n\ty\n' }],
  }), {
    kind: 'copy', sources: ['file'], dest: '/dst/', link: false, parents: false, exclude: [],
    sourceContents: [
      { name: 'one', fileDescriptor: 0, chomp: false, expand: true, content: '$A\n' },
      { name: 'two', fileDescriptor: 0, chomp: true, expand: false, content: 'x\ny\n' },
    ],
  }],
  ['ADD flags', node('ADD', ['https://x/a.tgz', '/a'], {
    flags: ['--checksum=sha256:abc', '--keep-git-dir', '--unpack=false', '--chown=u', '--exclude=x'],
  }), {
    kind: 'add', sources: ['https://x/a.tgz'], dest: '/a', sourceContents: [], chown: 'u', link: false, parents: false,
    exclude: ['x'], checksum: 'sha256:abc', keepGitDir: true, unpack: false,
  }],
  ['ADD without optional flags', node('ADD', ['a', 'b']), {
    kind: 'add', sources: ['a'], dest: 'b', sourceContents: [], link: false, parents: false, exclude: [],
  }],
  ['VOLUME trims', node('VOLUME', [' /data ', '/logs'], { json: true }), { kind: 'volume', volumes: ['/data', '/logs'] }],
  ['USER', node('USER', ['app:app']), { kind: 'user', user: 'app:app' }],
  ['WORKDIR', node('WORKDIR', ['/src/$X']), { kind: 'workdir', path: '/src/$X' }],
  ['ARG several', node('ARG', ['A', 'B=', 'C=x=y'], { comments: ['B the b value', 'A is ignored here'] }), {
    kind: 'arg',
    args: [{ key: 'A', docComment: 'is ignored here' }, { key: 'B', value: '', docComment: 'the b value' }, { key: 'C', value: 'x=y' }],
  }],
  ['ARG ignores flags (BuildKit never parses them)', node('ARG', ['A'], { flags: ['--bogus'] }), { kind: 'arg', args: [{ key: 'A' }] }],
  ['STOPSIGNAL', node('STOPSIGNAL', ['SIGTERM']), { kind: 'stopsignal', signal: 'SIGTERM' }],
  ['HEALTHCHECK NONE ignores flags', node('HEALTHCHECK', ['none'], { flags: ['--bogus=1'] }),
    { kind: 'healthcheck', health: { test: ['NONE'] } }],
  ['HEALTHCHECK CMD shell', node('HEALTHCHECK', ['cmd', 'curl -f http://localhost/']),
    { kind: 'healthcheck', health: { test: ['CMD-SHELL', 'curl -f http://localhost/'] } }],
  ['HEALTHCHECK CMD exec with durations', node('HEALTHCHECK', ['CMD', 'curl', '-f'], {
    json: true,
    flags: ['--interval=1m30s', '--timeout=1.5s', '--start-period=500ms', '--start-interval=0s', '--retries=3'],
  }), {
    kind: 'healthcheck',
    health: { test: ['CMD', 'curl', '-f'], interval: 90 * s, timeout: 1.5 * s, startPeriod: 500 * ms, retries: 3 },
  }],
  ['SHELL', node('SHELL', ['/bin/bash', '-eo', 'pipefail', '-c'], { json: true }),
    { kind: 'shell', shell: ['/bin/bash', '-eo', 'pipefail', '-c'] }],
  ['keywords are case-insensitive', node('wOrKdIr', ['/x']), { kind: 'workdir', path: '/x' }],
];

describe('parseInstruction: instruction → command', () => {
  for (const [title, n, fields] of positive) {
    test(title, () => {
      expect(parseInstruction(n) as unknown).toEqual({ ...baseOf(n, fields.kind as string), ...fields });
    });
  }

  test('ONBUILD keeps the expression and parses the trigger', () => {
    const n = onbuild(node('RUN', ['echo hi']));
    const cmd = parseInstruction(n);
    expect(cmd.kind).toBe('onbuild');
    if (cmd.kind !== 'onbuild') return;
    expect(cmd.expression).toBe('RUN echo hi');
    expect(cmd.trigger?.kind).toBe('run');
    expect((cmd.trigger as Command & { cmdLine: string[] }).cmdLine).toEqual(['echo hi']);
  });

  test('ONBUILD appends heredoc bodies to the expression', () => {
    const n = onbuild(node('COPY', ['<<EOF', '/x']), { original: '  onbuild COPY <<EOF /x', heredocs: [{ name: 'EOF', content: 'hello\n' }] });
    const cmd = parseInstruction(n);
    if (cmd.kind !== 'onbuild') throw new Error('not onbuild');
    expect(cmd.expression).toBe('COPY <<EOF /x\nhello\nEOF');
    expect(cmd.trigger?.kind === 'copy' && cmd.trigger.sourceContents[0]?.content).toBe('hello\n');
  });

  test('ONBUILD with a bad trigger is accepted, as BuildKit only checks it on replay', () => {
    const cmd = parseInstruction(onbuild(node('RUN', ['x'], { flags: ['--bogus'] })));
    if (cmd.kind !== 'onbuild') throw new Error('not onbuild');
    expect(cmd.trigger).toBeUndefined();
    expect(cmd.triggerError).toBe('unknown flag: --bogus');
  });

  test('the node is not modified', () => {
    const n = node('EXPOSE', ['9', '1']);
    const before = structuredClone(n);
    parseInstruction(n);
    expect(n).toEqual(before);
  });
});

const negative: [string, Node, string][] = [
  ['unknown instruction, upper case suggestion', node('FORM', ['x']), 'unknown instruction: FORM (did you mean FROM?)'],
  ['unknown instruction, lower case suggestion', node('cpy', ['a', 'b']), 'unknown instruction: cpy (did you mean copy?)'],
  ['unknown instruction, no suggestion', node('FOOBARBAZ', ['x']), 'unknown instruction: FOOBARBAZ'],
  ['unknown flag with suggestion', node('COPY', ['a', 'b'], { flags: ['--chmown=1'] }), 'unknown flag: --chmown (did you mean chown?)'],
  ['unknown flag', node('MAINTAINER', ['joe'], { flags: ['--boo'] }), 'unknown flag: --boo'],
  ['flag without --', node('COPY', ['a', 'b'], { flags: ['-link'] }), 'arg should start with -- : -link'],
  ['string flag without value', node('COPY', ['a', 'b'], { flags: ['--from'] }), 'missing a value on flag: --from'],
  ['bool flag with empty value', node('COPY', ['a', 'b'], { flags: ['--link='] }), 'missing a value on flag: --link'],
  ['bool flag with bad value', node('COPY', ['a', 'b'], { flags: ['--link=yes'] }), 'expecting boolean value for flag --link, not: yes'],
  ['duplicate flag', node('COPY', ['a', 'b'], { flags: ['--from=a', '--from=b'] }), 'duplicate flag specified: --from'],
  ['array flag without value', node('COPY', ['a', 'b'], { flags: ['--exclude'] }), 'missing a value on flag: --exclude'],
  ['FROM with two args', node('FROM', ['a', 'b']), 'FROM requires either one or three arguments'],
  ['FROM without args', node('FROM'), 'FROM requires either one or three arguments'],
  ['FROM bad AS keyword', node('FROM', ['a', 'at', 'b']), 'FROM requires either one or three arguments'],
  ['FROM bad stage name', node('FROM', ['a', 'AS', '1st']), 'invalid name for build stage: "1st", name can\'t start with a number or contain symbols'],
  ['FROM stage name with symbol', node('FROM', ['a', 'AS', 'a$b']), 'invalid name for build stage: "a$b", name can\'t start with a number or contain symbols'],
  ['FROM unknown flag', node('FROM', ['a'], { flags: ['--platfrom=x'] }), 'unknown flag: --platfrom (did you mean platform?)'],
  ['ENV without args', node('ENV'), 'ENV requires at least one argument'],
  ['LABEL without args', node('LABEL'), 'LABEL requires at least one argument'],
  ['ENV odd args', node('ENV', ['a', 'b']), 'Bad input to ENV, too many arguments'],
  ['ENV blank name', node('ENV', ['', 'v', '=']), 'ENV names can not be blank'],
  ['LABEL blank name', node('LABEL', ['', 'v', '=']), 'LABEL names can not be blank'],
  ['MAINTAINER no args', node('MAINTAINER'), 'MAINTAINER requires exactly one argument'],
  ['WORKDIR no args', node('WORKDIR'), 'WORKDIR requires exactly one argument'],
  ['USER two args', node('USER', ['a', 'b']), 'USER requires exactly one argument'],
  ['STOPSIGNAL no args', node('STOPSIGNAL'), 'STOPSIGNAL requires exactly one argument'],
  ['EXPOSE no args', node('EXPOSE'), 'EXPOSE requires at least one argument'],
  ['VOLUME no args', node('VOLUME'), 'VOLUME requires at least one argument'],
  ['VOLUME empty', node('VOLUME', ['/a', '  '], { json: true }), 'VOLUME specified can not be an empty string'],
  ['ARG no args', node('ARG'), 'ARG requires at least one argument'],
  ['ARG blank name', node('ARG', ['=x']), 'ARG names can not be blank'],
  ['ONBUILD no args', node('ONBUILD'), 'ONBUILD requires at least one argument'],
  ['ONBUILD ONBUILD', onbuild(onbuild(node('RUN', ['x']))), 'Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed'],
  ['ONBUILD FROM', onbuild(node('from', ['scratch'])), 'FROM isn\'t allowed as an ONBUILD trigger'],
  ['ONBUILD MAINTAINER', onbuild(node('Maintainer', ['me'])), 'MAINTAINER isn\'t allowed as an ONBUILD trigger'],
  ['COPY one arg', node('COPY', ['a']), 'COPY requires at least two arguments, but only one was provided. Destination could not be determined'],
  ['ADD one arg', node('ADD', ['a']), 'ADD requires at least two arguments, but only one was provided. Destination could not be determined'],
  ['COPY heredoc destination', node('COPY', ['a', '<<EOF']), 'COPY cannot accept a heredoc as a destination'],
  ['ADD --parents does not exist', node('ADD', ['a', 'b'], { flags: ['--parents'] }), 'unknown flag: --parents'],
  ['COPY --checksum does not exist', node('COPY', ['a', 'b'], { flags: ['--checksum=x'] }), 'unknown flag: --checksum'],
  ['RUN bad network', node('RUN', ['x'], { flags: ['--network=bridge'] }), 'invalid network mode "bridge"'],
  ['RUN bad security', node('RUN', ['x'], { flags: ['--security=strict'] }), 'security "strict" is not valid'],
  ['RUN --mount from with a variable', node('RUN', ['x'], { flags: ['--mount=from=$STAGE,target=/x'] }),
    '\'from\' doesn\'t support variable expansion, define alias stage instead'],
  ['RUN --mount bad csv', node('RUN', ['x'], { flags: ['--mount=target="/x'] }),
    'failed to parse csv mounts: parse error on line 1, column 8: bare " in non-quoted-field'],
  ['RUN --mount empty', node('RUN', ['x'], { flags: ['--mount='] }), 'failed to parse csv mounts: EOF'],
  ['RUN unknown flag, distance 2', node('RUN', ['x'], { flags: ['--mnt=type=cache'] }), 'unknown flag: --mnt (did you mean mount?)'],
  ['RUN unknown flag, nothing close', node('RUN', ['x'], { flags: ['--zzzzzz'] }), 'unknown flag: --zzzzzz'],
  ['RUN --mout suggests mount', node('RUN', ['x'], { flags: ['--mout=type=cache'] }), 'unknown flag: --mout (did you mean mount?)'],
  ['SHELL shell form', node('SHELL', ['/bin/sh -c']), 'SHELL requires the arguments to be in JSON form'],
  ['SHELL []', node('SHELL', [], { json: true }), 'SHELL requires at least one argument'],
  ['HEALTHCHECK no args', node('HEALTHCHECK'), 'HEALTHCHECK requires at least one argument'],
  ['HEALTHCHECK NONE with args', node('HEALTHCHECK', ['NONE', 'x']), 'HEALTHCHECK NONE takes no arguments'],
  ['HEALTHCHECK unknown type', node('HEALTHCHECK', ['run', 'x']), 'Unknown type "RUN" in HEALTHCHECK (try CMD)'],
  ['HEALTHCHECK CMD without command', node('HEALTHCHECK', ['CMD']), 'Missing command after HEALTHCHECK CMD'],
  ['HEALTHCHECK interval too small', node('HEALTHCHECK', ['CMD', 'x'], { flags: ['--interval=50ns'] }),
    'Interval "interval" cannot be less than 1ms'],
  ['HEALTHCHECK negative duration', node('HEALTHCHECK', ['CMD', 'x'], { flags: ['--start-period=-1s'] }),
    'Interval "start-period" cannot be less than 1ms'],
  ['HEALTHCHECK bad duration', node('HEALTHCHECK', ['CMD', 'x'], { flags: ['--timeout=10'] }), 'time: missing unit in duration "10"'],
  ['HEALTHCHECK unknown unit', node('HEALTHCHECK', ['CMD', 'x'], { flags: ['--timeout=10d'] }), 'time: unknown unit "d" in duration "10d"'],
  ['HEALTHCHECK bad retries', node('HEALTHCHECK', ['CMD', 'x'], { flags: ['--retries=two'] }), 'strconv.ParseInt: parsing "two": invalid syntax'],
  ['HEALTHCHECK negative retries', node('HEALTHCHECK', ['CMD', 'x'], { flags: ['--retries=-1'] }), '--retries cannot be negative (-1)'],
  ['HEALTHCHECK flag check before type check', node('HEALTHCHECK', ['BAD'], { flags: ['--nope=1'] }), 'unknown flag: --nope'],
];

describe('parseInstruction: errors', () => {
  for (const [title, n, message] of negative) {
    test(title, () => {
      n.startLine = 3;
      n.endLine = 4;
      let err: unknown;
      try {
        parseInstruction(n);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(KilnError);
      const k = err as KilnError;
      expect(k.message).toBe(message);
      expect(k.kind).toBe('input');
      expect(k.location).toEqual({ file: 'Dockerfile', startLine: 3, endLine: 4 });
    });
  }
});
