/**
 * Parsers for the instructions with plain arguments: FROM, ENV, LABEL, MAINTAINER, WORKDIR,
 * USER, VOLUME, STOPSIGNAL, ARG, EXPOSE (BuildKit's parse.go). Each throws a plain Error with
 * BuildKit's wording; checks run in BuildKit's order, so the same input fails the same way.
 */

import type {
  ArgCommand, ArgKeyValue, EnvCommand, ExposeCommand, FromCommand, KeyValue, LabelCommand,
  MaintainerCommand, StopsignalCommand, UserCommand, VolumeCommand, WorkdirCommand,
} from './types.ts';
import { goQuote } from './go-values.ts';
import {
  base, docComment, errAtLeastOneArgument, errBlankCommandNames, errExactlyOneArgument,
  errTooManyArguments, type ParseRequest,
} from './request.ts';

const validStageName = /^[a-z][a-z0-9_.-]*$/;

/** `AS name` → the lower-cased, validated stage name ('' when absent). */
export function parseBuildStageName(args: readonly string[]): string {
  if (args.length === 3 && args[1]!.toLowerCase() === 'as') {
    const name = args[2]!.toLowerCase();
    if (!validStageName.test(name)) {
      throw new Error(`invalid name for build stage: ${goQuote(args[2]!)}, name can't start with a number or contain symbols`);
    }
    return name;
  }
  if (args.length !== 1) throw new Error('FROM requires either one or three arguments');
  return '';
}

export function parseFrom(req: ParseRequest): FromCommand {
  const stageName = parseBuildStageName(req.args);
  req.flags.addString('platform');
  req.flags.parse();
  const cmd: FromCommand = { ...base(req, 'from'), baseName: req.args[0]!, origCmd: req.command };
  if (stageName !== '') {
    cmd.stageName = stageName;
    cmd.origStageName = req.args[2]!;
  }
  if (req.flags.value('platform') !== '') cmd.platform = req.flags.value('platform');
  return cmd;
}

/** ENV/LABEL argument triples (key, value, delimiter) → pairs. */
function parseKvps(args: readonly string[], cmdName: string): KeyValue[] {
  if (args.length === 0) throw errAtLeastOneArgument(cmdName);
  if (args.length % 3 !== 0) throw errTooManyArguments(cmdName);
  const out: KeyValue[] = [];
  for (let j = 0; j < args.length; j += 3) {
    if (args[j]!.length === 0) throw errBlankCommandNames(cmdName);
    const kv: KeyValue = { key: args[j]!, value: args[j + 1]! };
    if (args[j + 2] === '') kv.noDelim = true;
    out.push(kv);
  }
  return out;
}

export function parseEnv(req: ParseRequest): EnvCommand {
  req.flags.parse();
  return { ...base(req, 'env'), env: parseKvps(req.args, 'ENV') };
}

export function parseLabel(req: ParseRequest): LabelCommand {
  req.flags.parse();
  return { ...base(req, 'label'), labels: parseKvps(req.args, 'LABEL') };
}

export function parseMaintainer(req: ParseRequest): MaintainerCommand {
  if (req.args.length !== 1) throw errExactlyOneArgument('MAINTAINER');
  req.flags.parse();
  return { ...base(req, 'maintainer'), maintainer: req.args[0]! };
}

export function parseWorkdir(req: ParseRequest): WorkdirCommand {
  if (req.args.length !== 1) throw errExactlyOneArgument('WORKDIR');
  req.flags.parse();
  return { ...base(req, 'workdir'), path: req.args[0]! };
}

export function parseUser(req: ParseRequest): UserCommand {
  if (req.args.length !== 1) throw errExactlyOneArgument('USER');
  req.flags.parse();
  return { ...base(req, 'user'), user: req.args[0]! };
}

export function parseVolume(req: ParseRequest): VolumeCommand {
  if (req.args.length === 0) throw errAtLeastOneArgument('VOLUME');
  req.flags.parse();
  const volumes = req.args.map((v) => {
    const t = v.trim();
    if (t === '') throw new Error('VOLUME specified can not be an empty string');
    return t;
  });
  return { ...base(req, 'volume'), volumes };
}

/** STOPSIGNAL: BuildKit does not parse (so ignores) flags here. */
export function parseStopsignal(req: ParseRequest): StopsignalCommand {
  if (req.args.length !== 1) throw errExactlyOneArgument('STOPSIGNAL');
  return { ...base(req, 'stopsignal'), signal: req.args[0]! };
}

/** ARG k[=v] ...: BuildKit does not parse (so ignores) flags here. */
export function parseArg(req: ParseRequest): ArgCommand {
  if (req.args.length < 1) throw errAtLeastOneArgument('ARG');
  const args = req.args.map((arg): ArgKeyValue => {
    const eq = arg.indexOf('=');
    let kv: ArgKeyValue;
    if (eq >= 0) {
      if (eq === 0) throw errBlankCommandNames('ARG');
      kv = { key: arg.slice(0, eq), value: arg.slice(eq + 1) };
    } else {
      kv = { key: arg };
    }
    const doc = docComment(req.node.prevComment, kv.key);
    if (doc !== undefined) kv.docComment = doc;
    return kv;
  });
  return { ...base(req, 'arg'), args };
}

/** EXPOSE: ports kept as written (expanded later), sorted like BuildKit (byte order). */
export function parseExpose(req: ParseRequest): ExposeCommand {
  if (req.args.length === 0) throw errAtLeastOneArgument('EXPOSE');
  req.flags.parse();
  const ports = [...req.args].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return { ...base(req, 'expose'), ports };
}
