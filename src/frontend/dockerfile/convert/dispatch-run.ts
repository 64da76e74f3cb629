import { KilnError } from '../../api.ts';
import type { NetMode } from '../../api.ts';
import type { RunCommand } from '../instructions/index.ts';
import type { DispatchState } from './dispatch-state.ts';
import { envOf, locationOf, prefixCommand, processCmdEnv, uppercaseCmd, type DispatchOpt } from './dispatch-opt.ts';
import { withShell } from './dispatch-config.ts';
import { parseDevice } from '../instructions/index.ts';
import { commitToHistory } from './image.ts';
import { runCommandString } from './args.ts';
import { chompHeredocContent } from '../instructions/index.ts';
import { createLexer } from './lexer.ts';
import { dispatchRunMounts } from './dispatch-run-mounts.ts';

const HEREDOC_ONLY = /^<<-?\s*(["']?)([^\s"']+)\1$/;

/** RUN: a process in a container on the stage's file system; its changes become a layer. */
export function dispatchRun(d: DispatchState, c: RunCommand, opt: DispatchOpt): void {
  let args = [...c.cmdLine];
  let name = c.original;
  const llb = opt.ctx.llb;
  let shebangMount: { dest: string; source: ReturnType<typeof llb.scratch> } | undefined;
  if (c.files.length > 0) {
    if (args.length !== 1 || !c.prependShell) throw new KilnError(`parsing produced an invalid run command: ${JSON.stringify(args)}`, { kind: 'input' });
    const first = c.files[0]!;
    if (HEREDOC_ONLY.test(args[0]!.trim())) {
      const data = first.chomp ? chompHeredocContent(first.content) : first.content;
      if (data.startsWith('#!')) {
        const src = llb.scratch().dir('/').file(llb.mkfile(first.name, 0o755, data), { customName: '[internal] preparing inline document' });
        shebangMount = { dest: '/dev/pipes/', source: src };
        args = [`/dev/pipes/${first.name}`];
      } else {
        args = [data];
      }
      name += ` (${summarizeHeredoc(first.content)})`;
    } else {
      let b = args[0]!;
      for (const f of c.files) b += `\n${f.content}${f.name}`;
      args = [b];
    }
  }
  if (c.prependShell) args = withShell(d, args);
  checkDevices(c, opt);
  const runMounts = dispatchRunMounts(d, c, opt);
  let network: NetMode | undefined;
  if (c.network === 'none') network = 'none';
  else if (c.network === 'host') network = 'host';
  const security = c.security === 'insecure' ? 'insecure' : undefined;
  const env = envOf(d);
  // BuildKit names RUN steps with quotes kept and unset variables left as written.
  const nameLex = createLexer(opt.lex.escapeToken, { rawQuotes: true, skipUnsetEnv: true });
  const display = prefixCommand(d, uppercaseCmd(processCmdEnv(nameLex, name, env)));
  // --add-host: each RUN's /etc/hosts (BuildKit's llb.AddExtraHost per exec), never the stage's state.
  let base = d.state;
  for (const h of opt.extraHosts ?? []) base = base.addExtraHost(h.host, h.ip);
  const exec = base.run({
    args,
    network,
    security,
    ulimits: opt.ulimits,
    proxyEnv: opt.proxyEnv,
    customName: display,
    ignoreCache: d.ignoreCache,
    locations: locationOf(opt, c),
    description: { 'com.docker.dockerfile.v1.command': c.original },
    mounts: [
      ...(shebangMount ? [{ type: 'bind' as const, dest: shebangMount.dest, source: shebangMount.source, readonly: true }] : []),
      ...runMounts.mounts,
      // --shm-size: /dev/shm as a tmpfs of that size (BuildKit's dispatchRun)
      ...(opt.shmSize ? [{ type: 'tmpfs' as const, dest: '/dev/shm', tmpfs: { size: opt.shmSize } }] : []),
    ],
    secretEnv: runMounts.secretEnv.length ? runMounts.secretEnv : undefined,
  });
  d.state = exec.root();
  commitToHistory(d.image, `RUN ${runCommandString(args, d.buildArgs, env)}`, true, true);
}

function summarizeHeredoc(doc: string): string {
  const lines = doc.trim().split('\n');
  const first = lines[0] ?? '';
  return lines.length > 1 ? `${first}...` : first;
}

/**
 * RUN --device (CDI devices) is the one labs-only feature of current BuildKit: its mainline
 * frontend refuses the flag, so a file that uses it without `# syntax=docker/dockerfile:1-labs`
 * gets a warning (kiln runs its one frontend for every docker/dockerfile tag, offline). kiln
 * has no CDI devices: a required one fails the build, an optional one is left out (BuildKit
 * does the same for a device its host lacks).
 */
function checkDevices(c: RunCommand, opt: DispatchOpt): void {
  if (c.devices.length === 0) return;
  const location = { file: opt.file, startLine: c.location.startLine, endLine: c.location.endLine };
  if (!opt.labs) {
    opt.ctx.warn({
      message: 'RUN --device is a labs feature: BuildKit without the labs channel refuses it (add # syntax=docker/dockerfile:1-labs as the first line)',
      location,
      rule: 'LabsFeature',
    });
  }
  for (const d of c.devices.map(parseDevice)) {
    if (d.required) throw new KilnError(`device "${d.name}" is required, and kiln has no CDI devices`, { kind: 'input', location });
    opt.ctx.warn({ message: `device "${d.name}" is not available (kiln has no CDI devices): the step runs without it`, location });
  }
}
