/**
 * Parsers for the instructions that run or describe a command: RUN, CMD, ENTRYPOINT, SHELL,
 * HEALTHCHECK (BuildKit's parse.go, commands_runmount.go, commands_runnetwork.go,
 * commands_runsecurity.go, commands_rundevice.go). Plain Errors with BuildKit's wording.
 */

import type { CmdCommand, EntrypointCommand, HealthConfig, HealthcheckCommand, RunCommand, ShellCommand } from './types.ts';
import { goQuote, parseGoDuration, parseGoInt } from './go-values.ts';
import { base, errAtLeastOneArgument, handleJsonArgs, type ParseRequest } from './request.ts';
import { parseMounts } from './run-mount.ts';
import { parseDevice } from './run-device.ts';

const networks = ['default', 'none', 'host'];
const securities = ['insecure', 'sandbox'];

function shellDependent(req: ParseRequest) {
  return {
    prependShell: !req.node.json,
    cmdLine: handleJsonArgs(req.args, req.node.json),
    files: req.node.heredocs.map((h) => ({ ...h })),
  };
}

export function parseRun(req: ParseRequest): RunCommand {
  const f = req.flags;
  f.addStrings('mount');
  f.addString('network', 'default');
  f.addString('security', 'sandbox');
  f.addStrings('device');
  f.parse();
  const cmd: RunCommand = {
    ...base(req, 'run'),
    ...shellDependent(req),
    mounts: f.values('mount'),
    devices: f.values('device'),
    flagsUsed: f.used(),
  };
  // BuildKit's post hooks, in registration (file name) order: device, mount, network, security.
  cmd.devices.forEach((d) => parseDevice(d));
  parseMounts(cmd.mounts);
  const network = f.value('network');
  if (!networks.includes(network)) throw new Error(`invalid network mode ${goQuote(network)}`);
  if (f.isUsed('network')) cmd.network = network;
  const security = f.value('security');
  if (!securities.includes(security)) throw new Error(`security ${goQuote(security)} is not valid`);
  if (f.isUsed('security')) cmd.security = security;
  return cmd;
}

export function parseCmd(req: ParseRequest): CmdCommand {
  req.flags.parse();
  return { ...base(req, 'cmd'), ...shellDependent(req) };
}

export function parseEntrypoint(req: ParseRequest): EntrypointCommand {
  req.flags.parse();
  return { ...base(req, 'entrypoint'), ...shellDependent(req) };
}

export function parseShell(req: ParseRequest): ShellCommand {
  req.flags.parse();
  const shell = handleJsonArgs(req.args, req.node.json);
  if (shell.length === 0) throw errAtLeastOneArgument('SHELL');
  if (!req.node.json) throw new Error('SHELL requires the arguments to be in JSON form');
  return { ...base(req, 'shell'), shell };
}

/** A duration flag: 0 when empty or zero; at least 1ms otherwise (BuildKit's parseOptInterval). */
function optInterval(name: string, value: string): number {
  if (value === '') return 0;
  const d = parseGoDuration(value);
  if (d === 0) return 0;
  if (d < 1_000_000) throw new Error(`Interval ${goQuote(name)} cannot be less than 1ms`);
  return d;
}

export function parseHealthcheck(req: ParseRequest): HealthcheckCommand {
  if (req.args.length === 0) throw errAtLeastOneArgument('HEALTHCHECK');
  let typ = req.args[0]!.toUpperCase();
  const args = req.args.slice(1);
  if (typ === 'NONE') {
    // BuildKit parses no flags for NONE: they are ignored.
    if (args.length !== 0) throw new Error('HEALTHCHECK NONE takes no arguments');
    return { ...base(req, 'healthcheck'), health: { test: [typ] } };
  }
  const f = req.flags;
  const durations = ['interval', 'timeout', 'start-period', 'start-interval'] as const;
  for (const d of durations) f.addString(d);
  f.addString('retries');
  f.parse();
  if (typ !== 'CMD') throw new Error(`Unknown type ${goQuote(typ)} in HEALTHCHECK (try CMD)`);
  const cmdSlice = handleJsonArgs(args, req.node.json);
  if (cmdSlice.length === 0) throw new Error('Missing command after HEALTHCHECK CMD');
  if (!req.node.json) typ = 'CMD-SHELL';
  const health: HealthConfig = { test: [typ, ...cmdSlice] };
  const keys = { interval: 'interval', timeout: 'timeout', 'start-period': 'startPeriod', 'start-interval': 'startInterval' } as const;
  for (const d of durations) {
    const v = optInterval(d, f.value(d));
    if (v !== 0) health[keys[d]] = v;
  }
  const retries = f.value('retries');
  if (retries !== '') {
    const n = parseGoInt(retries, 32);
    if (n < 0) throw new Error(`--retries cannot be negative (${n})`);
    if (n !== 0) health.retries = n;
  }
  return { ...base(req, 'healthcheck'), health };
}
