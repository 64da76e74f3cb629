/**
 * Typed Dockerfile commands, as BuildKit's `frontend/dockerfile/instructions` package defines
 * them (commands.go). Values are plain data: nothing here is expanded (`$VAR` stays as written)
 * until `expandCommand` returns an expanded copy.
 */

import type { Heredoc } from '../parser/node.ts';

export type { Heredoc };

/** Lines of the instruction in the Dockerfile: 1-based, inclusive. */
export interface CommandLocation {
  startLine: number;
  endLine: number;
}

/** An ENV or LABEL pair. `noDelim` is true for the legacy `ENV key value` form (no `=`). */
export interface KeyValue {
  key: string;
  value: string;
  noDelim?: boolean;
}

/** One ARG declaration: `value` is undefined for `ARG name` (no `=`), '' for `ARG name=`. */
export interface ArgKeyValue {
  key: string;
  value?: string;
  /** Text after `# <key> ` in the comment lines directly above the ARG (BuildKit's DocComment). */
  docComment?: string;
}

interface CommandBase<K extends string> {
  /** The discriminant: the lower-case instruction keyword. */
  kind: K;
  /** Same as `kind` (BuildKit's Name()). */
  name: K;
  location: CommandLocation;
  /** The instruction line as written (continuations joined), trimmed. */
  original: string;
  /** Comment lines directly above the instruction, without the leading `# `. */
  comments: string[];
}

/** FROM, as returned by `parseInstruction`; `parseStages` turns each into a `Stage`. */
export interface FromCommand extends CommandBase<'from'> {
  baseName: string;
  /** The `AS name`, lower-cased and validated; undefined when there is none. */
  stageName?: string;
  /** The `AS name` as written. */
  origStageName?: string;
  platform?: string;
  /** The FROM keyword as written (`FROM`, `from`, ...). */
  origCmd: string;
}

/** RUN, CMD and ENTRYPOINT share this shape (BuildKit's ShellDependantCmdLine). */
interface ShellDependent {
  /** true for shell form: the converter prepends the SHELL (`/bin/sh -c`). */
  prependShell: boolean;
  /** Exec form: the JSON array; shell form: one element, the arguments joined by spaces. */
  cmdLine: string[];
}

export interface RunCommand extends CommandBase<'run'>, ShellDependent {
  /**
   * The here-documents of the line, in order, as the parser read them. `content` is NOT
   * chomped here: when `chomp` is true the converter strips leading tabs (as BuildKit does).
   */
  files: Heredoc[];
  /** Raw `--mount` values, in order; `parseMounts`/`expandMounts` turn them into `Mount`s. */
  mounts: string[];
  /** `--network` (validated: default | none | host); undefined when the flag is absent. */
  network?: string;
  /** `--security` (validated: sandbox | insecure); undefined when the flag is absent. */
  security?: string;
  /** Raw `--device` values, in order (BuildKit's RUN --device). */
  devices: string[];
  /** Names of the flags given, sorted (BuildKit's FlagsUsed). */
  flagsUsed: string[];
}

export interface CmdCommand extends CommandBase<'cmd'>, ShellDependent {
  files: Heredoc[];
}

export interface EntrypointCommand extends CommandBase<'entrypoint'>, ShellDependent {
  files: Heredoc[];
}

export interface EnvCommand extends CommandBase<'env'> {
  env: KeyValue[];
}

export interface LabelCommand extends CommandBase<'label'> {
  labels: KeyValue[];
}

export interface MaintainerCommand extends CommandBase<'maintainer'> {
  maintainer: string;
}

export interface ExposeCommand extends CommandBase<'expose'> {
  /** As written, sorted as strings (BuildKit sorts them); expand with `words` later. */
  ports: string[];
}

/** The fields ADD and COPY share (BuildKit's SourcesAndDest plus common flags). */
interface SourcesAndDest {
  /** Path (or URL) sources, heredoc sources excluded. */
  sources: string[];
  dest: string;
  /**
   * Heredoc sources (`COPY <<EOF /dest`), in order: `name` is the file name, `content` the
   * data (already chomped when `chomp`), `expand` false when the delimiter was quoted.
   */
  sourceContents: Heredoc[];
  chown?: string;
  chmod?: string;
  link: boolean;
  /** --exclude patterns, in order. */
  exclude: string[];
}

export interface AddCommand extends CommandBase<'add'>, SourcesAndDest {
  /** ADD has no --parents in BuildKit: always false, kept so ADD and COPY share a shape. */
  parents: boolean;
  checksum?: string;
  /** --keep-git-dir; undefined when not given. */
  keepGitDir?: boolean;
  /** --unpack; undefined when not given. */
  unpack?: boolean;
}

export interface CopyCommand extends CommandBase<'copy'>, SourcesAndDest {
  from?: string;
  parents: boolean;
}

export interface VolumeCommand extends CommandBase<'volume'> {
  volumes: string[];
}

export interface UserCommand extends CommandBase<'user'> {
  user: string;
}

export interface WorkdirCommand extends CommandBase<'workdir'> {
  path: string;
}

export interface ArgCommand extends CommandBase<'arg'> {
  args: ArgKeyValue[];
}

export interface OnbuildCommand extends CommandBase<'onbuild'> {
  /** The trigger's text as BuildKit stores it in the image config (heredoc bodies appended). */
  expression: string;
  /**
   * The trigger, parsed. BuildKit only validates triggers when a child image replays them, so
   * a trigger that does not parse is not an error here: `trigger` is undefined and
   * `triggerError` holds the message.
   */
  trigger?: Command;
  triggerError?: string;
}

export interface StopsignalCommand extends CommandBase<'stopsignal'> {
  signal: string;
}

/** Docker's HealthcheckConfig; durations in nanoseconds, zero values left out (omitempty). */
export interface HealthConfig {
  /** `['NONE']`, `['CMD', ...exec]` or `['CMD-SHELL', shellCommand]`. */
  test: string[];
  interval?: number;
  timeout?: number;
  startPeriod?: number;
  startInterval?: number;
  retries?: number;
}

export interface HealthcheckCommand extends CommandBase<'healthcheck'> {
  health: HealthConfig;
}

export interface ShellCommand extends CommandBase<'shell'> {
  shell: string[];
}

export type Command =
  | FromCommand
  | RunCommand
  | CmdCommand
  | EntrypointCommand
  | EnvCommand
  | LabelCommand
  | MaintainerCommand
  | ExposeCommand
  | AddCommand
  | CopyCommand
  | VolumeCommand
  | UserCommand
  | WorkdirCommand
  | ArgCommand
  | OnbuildCommand
  | StopsignalCommand
  | HealthcheckCommand
  | ShellCommand;

export type CommandKind = Command['kind'];

/** A build stage: one FROM and the commands up to the next FROM (FROM itself excluded). */
export interface Stage {
  /** The `AS` name, lower-cased; undefined for unnamed stages. */
  name?: string;
  /** The `AS` name as written. */
  origName?: string;
  /** The base image or stage name, not expanded. */
  baseName: string;
  /** --platform, not expanded. */
  platform?: string;
  commands: Command[];
  location: CommandLocation;
  /** Doc comment for the stage: text after `# <name> ` directly above the FROM. */
  comment?: string;
  /** The FROM instruction as written, trimmed. */
  sourceCode: string;
  /** The FROM keyword as written. */
  origCmd: string;
  /** Comment lines directly above the FROM. */
  comments: string[];
}

export type MountType = 'bind' | 'cache' | 'tmpfs' | 'secret' | 'ssh';
export type MountSharing = 'shared' | 'private' | 'locked';

/**
 * A RUN --mount, as BuildKit's `Mount`. String fields are undefined when unset or empty
 * (BuildKit's ""), numbers undefined when not given.
 */
export interface Mount {
  type: MountType;
  from?: string;
  source?: string;
  target?: string;
  /** Defaults: false for cache and tmpfs, true for bind, secret and ssh. */
  readOnly: boolean;
  /** tmpfs size in bytes (`size=`, docker units: 64m = 64 MiB); undefined when not given. */
  sizeLimit?: number;
  /** `id=` */
  cacheId?: string;
  cacheSharing?: MountSharing;
  /** secret / ssh only. */
  required: boolean;
  /** secret only: env var to expose the secret as; '' (given empty) means the default. */
  env?: string;
  mode?: number;
  uid?: number;
  gid?: number;
}

export interface Device {
  name: string;
  required: boolean;
}

/**
 * Variable expansion, supplied by the converter (backed by the shell lexer and the current env).
 * `word` = BuildKit's ProcessWord, `words` = ProcessWords (split on unquoted blanks), `raw` =
 * ProcessWord with quotes kept (SkipProcessQuotes), used for expandable heredoc contents.
 */
export interface Expander {
  word(s: string): string;
  words(s: string): string[];
  raw?(s: string): string;
}
