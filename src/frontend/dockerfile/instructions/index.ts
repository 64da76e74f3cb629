/**
 * The Dockerfile instruction layer (BuildKit's frontend/dockerfile/instructions): syntax-tree
 * nodes → typed, unexpanded commands grouped into stages, plus expansion helpers.
 */

export type {
  AddCommand, ArgCommand, ArgKeyValue, CmdCommand, Command, CommandKind, CommandLocation, CopyCommand,
  Device, EntrypointCommand, EnvCommand, Expander, ExposeCommand, FromCommand, HealthConfig,
  HealthcheckCommand, Heredoc, KeyValue, LabelCommand, MaintainerCommand, Mount, MountSharing, MountType,
  OnbuildCommand, RunCommand, ShellCommand, Stage, StopsignalCommand, UserCommand, VolumeCommand,
  WorkdirCommand,
} from './types.ts';
export { parseInstruction, parseStages, instructionNames } from './parse.ts';
export { expandCommand, expandMounts } from './expand.ts';
export { parseMounts, parseMount, mountKeys } from './run-mount.ts';
export { parseDevice } from './run-device.ts';
export { parseGoDuration } from './go-values.ts';
export { suggest } from './suggest.ts';
export { chompHeredocContent } from './heredoc-word.ts';
