/**
 * The instruction boundary: syntax-tree nodes → typed commands and stages (BuildKit's
 * instructions.ParseInstruction and instructions.Parse). Inner parsers throw plain Errors; this
 * file attaches the Dockerfile location once, as a KilnError of kind 'input'.
 */

import type { Node } from '../parser/node.ts';
import type { ArgCommand, Command, FromCommand, OnbuildCommand, Stage } from './types.ts';
import { KilnError } from '../../api.ts';
import { withSuggestion } from './suggest.ts';
import { errAtLeastOneArgument, newRequest, docComment, base, type ParseRequest } from './request.ts';
import { parseAdd, parseCopy } from './parse-copy.ts';
import { parseCmd, parseEntrypoint, parseHealthcheck, parseRun, parseShell } from './parse-exec.ts';
import {
  parseArg, parseEnv, parseExpose, parseFrom, parseLabel, parseMaintainer, parseStopsignal, parseUser,
  parseVolume, parseWorkdir,
} from './parse-simple.ts';

const parsers: Record<string, (req: ParseRequest) => Command> = {
  add: parseAdd,
  arg: parseArg,
  cmd: parseCmd,
  copy: parseCopy,
  entrypoint: parseEntrypoint,
  env: parseEnv,
  expose: parseExpose,
  from: parseFrom,
  healthcheck: parseHealthcheck,
  label: parseLabel,
  maintainer: parseMaintainer,
  onbuild: parseOnbuild,
  run: parseRun,
  shell: parseShell,
  stopsignal: parseStopsignal,
  user: parseUser,
  volume: parseVolume,
  workdir: parseWorkdir,
};

/** Every instruction keyword, upper-case, sorted. */
export const instructionNames: readonly string[] = Object.keys(parsers).map((k) => k.toUpperCase()).sort();

/** Parse without attaching a location: throws plain Errors. */
function parseNode(node: Node): Command {
  const parse = Object.hasOwn(parsers, node.value.toLowerCase()) ? parsers[node.value.toLowerCase()] : undefined;
  if (!parse) throw new Error(withSuggestion(`unknown instruction: ${node.value}`, node.value, instructionNames, false));
  return parse(newRequest(node));
}

function parseOnbuild(req: ParseRequest): OnbuildCommand {
  if (req.args.length === 0) throw errAtLeastOneArgument('ONBUILD');
  req.flags.parse();
  const trigger = req.args[0]!.trim().toUpperCase();
  if (trigger === 'ONBUILD') throw new Error('Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
  if (trigger === 'MAINTAINER' || trigger === 'FROM') throw new Error(`${trigger} isn't allowed as an ONBUILD trigger`);
  let expression = req.node.original.replace(/^\s*ONBUILD\s*/i, '');
  for (const h of req.node.heredocs) expression += `\n${h.content}${h.name}`;
  const cmd: OnbuildCommand = { ...base(req, 'onbuild'), expression };
  const triggerNode = req.node.next[0]?.children[0];
  if (triggerNode) {
    try {
      cmd.trigger = parseNode({
        ...triggerNode,
        heredocs: req.node.heredocs,
        startLine: req.node.startLine,
        endLine: req.node.endLine,
        prevComment: [],
      });
    } catch (e) {
      cmd.triggerError = (e as Error).message;
    }
  }
  return cmd;
}

function locationOf(node: Node) {
  return { file: 'Dockerfile', startLine: node.startLine, endLine: node.endLine };
}

/**
 * One instruction node → its typed command (FROM included, as a FromCommand). Nothing is
 * expanded. Throws a KilnError (kind 'input', the node's location) with BuildKit's message.
 * Pure: the node is not modified.
 */
export function parseInstruction(node: Node): Command {
  try {
    return parseNode(node);
  } catch (e) {
    if (e instanceof KilnError) throw e;
    throw new KilnError((e as Error).message, { kind: 'input', location: locationOf(node), cause: e });
  }
}

function toStage(from: FromCommand): Stage {
  const stage: Stage = {
    baseName: from.baseName,
    commands: [],
    location: { ...from.location },
    sourceCode: from.original,
    origCmd: from.origCmd,
    comments: from.comments,
  };
  if (from.stageName !== undefined) {
    stage.name = from.stageName;
    stage.origName = from.origStageName;
    const doc = docComment(from.comments, from.stageName);
    if (doc !== undefined) stage.comment = doc;
  }
  if (from.platform !== undefined) stage.platform = from.platform;
  return stage;
}

/**
 * The root node → build stages, plus the ARGs before the first FROM (`metaArgs`).
 * Errors are BuildKit's: `dockerfile parse error on line N: <message>` for a bad instruction,
 * `no build stage in current context` for a command before any FROM. Pure.
 */
export function parseStages(root: Node): { stages: Stage[]; metaArgs: ArgCommand[] } {
  const stages: Stage[] = [];
  const metaArgs: ArgCommand[] = [];
  for (const node of root.children) {
    let cmd: Command;
    try {
      cmd = parseNode(node);
    } catch (e) {
      const msg = `dockerfile parse error on line ${node.startLine}: ${(e as Error).message}`;
      throw new KilnError(msg, { kind: 'input', location: locationOf(node), cause: e });
    }
    if (cmd.kind === 'from') {
      stages.push(toStage(cmd));
      continue;
    }
    if (stages.length === 0) {
      if (cmd.kind === 'arg') {
        metaArgs.push(cmd);
        continue;
      }
      throw new KilnError('no build stage in current context', { kind: 'input', location: locationOf(node) });
    }
    stages[stages.length - 1]!.commands.push(cmd);
  }
  return { stages, metaArgs };
}
