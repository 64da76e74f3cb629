import type { ParseWarning } from '../parser/node.ts';
import type { Command, Stage } from '../instructions/index.ts';
import type { Linter } from './linter.ts';

const RESERVED = new Set(['context', 'scratch']);
const DENY = /(?:_|^)(?:apikey|auth|credential|credentials|key|password|pword|passwd|secret|token)(?:_|$)/i;
const ALLOW = /(?:_|^)(?:public|file|version)(?:_|$)/i;

/** The instruction keyword as written (`RUN`, `run`, `Run`). */
export const keywordOf = (c: { original: string }) => c.original.trimStart().split(/\s/, 1)[0] ?? '';
const consistent = (s: string) => s === s.toLowerCase() || s === s.toUpperCase();

/** Whether an ARG/ENV name looks like it holds a secret (BuildKit's validateNoSecretKey). */
export function looksSecret(key: string): boolean {
  return DENY.test(key) && !ALLOW.test(key);
}

/** The checks BuildKit runs on the parsed file before converting it. */
export function runStaticChecks(lint: Linter, stages: Stage[], parserWarnings: ParseWarning[]): void {
  for (const w of parserWarnings) lint.run('NoEmptyContinuation', w, 'Empty continuation line');

  // Stage names: casing, reserved words, duplicates; FROM/AS keyword casing.
  const names = new Set<string>();
  for (const s of stages) {
    if (s.origName && s.origName !== s.origName.toLowerCase()) lint.run('StageNameCasing', s.location, `Stage name '${s.origName}' should be lowercase`);
    if (s.name) {
      if (RESERVED.has(s.name)) lint.run('ReservedStageName', s.location, `Stage name should not use the same name as reserved stage "${s.name}"`);
      if (names.has(s.name)) lint.run('DuplicateStageName', s.location, `Duplicate stage name "${s.name}", stage names should be unique`);
      names.add(s.name);
      const as = /\s(as)\s+\S+\s*$/i.exec(s.sourceCode)?.[1];
      if (as) {
        const fromUpper = s.origCmd === s.origCmd.toUpperCase();
        const fromLower = s.origCmd === s.origCmd.toLowerCase();
        if ((fromUpper && as !== as.toUpperCase()) || (fromLower && as !== as.toLowerCase())) {
          lint.run('FromAsCasing', s.location, `'${as}' and '${s.origCmd}' keywords' casing do not match`);
        }
      }
    }
  }

  // Instruction casing: everything should follow the majority.
  let lower = 0;
  let upper = 0;
  const all: { kw: string; loc: { startLine: number; endLine: number } }[] = [];
  for (const s of stages) {
    all.push({ kw: s.origCmd, loc: s.location });
    for (const c of s.commands) all.push({ kw: keywordOf(c), loc: c.location });
  }
  for (const { kw } of all) {
    if (!consistent(kw)) continue;
    if (kw === kw.toLowerCase()) lower++;
    else upper++;
  }
  const majorityLower = lower > upper;
  for (const { kw, loc } of all) {
    if (majorityLower && kw.toLowerCase() !== kw) lint.run('ConsistentInstructionCasing', loc, `Command '${kw}' should match the case of the command majority (lowercase)`);
    else if (!majorityLower && kw.toUpperCase() !== kw) lint.run('ConsistentInstructionCasing', loc, `Command '${kw}' should match the case of the command majority (uppercase)`);
  }

  for (const s of stages) for (const c of s.commands) commandChecks(lint, c);
}

function commandChecks(lint: Linter, c: Command): void {
  switch (c.kind) {
    case 'maintainer':
      lint.run('MaintainerDeprecated', c.location, 'Maintainer instruction is deprecated in favor of using label');
      break;
    case 'env':
    case 'label':
      for (const kv of c.kind === 'env' ? c.env : c.labels) {
        if (kv.noDelim) lint.run('LegacyKeyValueFormat', c.location, `"${keywordOf(c)} key=value" should be used instead of legacy "${keywordOf(c)} key value" format`);
        if (c.kind === 'env' && looksSecret(kv.key)) lint.run('SecretsUsedInArgOrEnv', c.location, `Do not use ARG or ENV instructions for sensitive data (ENV "${kv.key}")`);
      }
      break;
    case 'arg':
      for (const a of c.args) if (looksSecret(a.key)) lint.run('SecretsUsedInArgOrEnv', c.location, `Do not use ARG or ENV instructions for sensitive data (ARG "${a.key}")`);
      break;
    case 'expose':
      for (const p of c.ports) {
        if (p.includes(':')) lint.run('ExposeInvalidFormat', c.location, `EXPOSE instruction should not define an IP address or host-port mapping, found '${p}'`);
        const proto = p.split('/')[1];
        if (proto && proto !== proto.toLowerCase()) lint.run('ExposeProtoCasing', c.location, `Defined protocol '${p}' in EXPOSE instruction should be lowercase`);
      }
      break;
    default:
  }
}
