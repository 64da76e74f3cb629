import type { FrontendContext } from '../../api.ts';
import type { State } from '../../api.ts';
import type { Ulimit } from '../../api.ts';
import type { DispatchState } from './dispatch-state.ts';
import type { Lexer } from './lexer.ts';
import type { Linter } from '../lint/index.ts';
import type { PatternMatcher } from '../../api.ts';
/** What every dispatch function may use besides the stage it updates. */
export interface DispatchOpt {
  ctx: FrontendContext;
  lex: Lexer;
  /** The Dockerfile's name, for locations. */
  file: string;
  states: DispatchState[];
  /** The main build context (`local://context`). */
  buildContext: State;
  globalArgs: Map<string, string>;
  lint: Linter;
  /** The context's .dockerignore, for CopyIgnoredFile. */
  ignore?: PatternMatcher;
  buildArgValues: Record<string, string>;
  proxyEnv?: Record<string, string>;
  /** `--add-host` entries for every RUN. */
  extraHosts?: { host: string; ip: string }[];
  /** `--ulimit`s for every RUN. */
  ulimits?: Ulimit[];
  /** `--shm-size` in bytes for every RUN (0: the default 64 MiB). */
  shmSize?: number;
  /** The file asks for the labs channel (`# syntax=docker/dockerfile:1-labs`): labs-only features are expected. */
  labs?: boolean;
}

/** The stage's current environment, as variables for expansion. */
export function envOf(d: DispatchState): ReadonlyMap<string, string> {
  return d.state.envMap();
}

/** `[stage-0 2/5] RUN make` (BuildKit's prefixCommand); advances the stage's step counter. */
export function prefixCommand(d: DispatchState, text: string): string {
  if (d.cmdTotal === 0) return text;
  d.cmdIndex++;
  const width = Math.floor(1 + Math.log10(d.cmdTotal));
  const name = d.stageName ? `${d.stageName} ` : '';
  return `[${name}${String(d.cmdIndex).padStart(width, ' ')}/${d.cmdTotal}] ${d.cmdIsOnBuild ? 'ONBUILD ' : ''}${text}`;
}

/** Upper-cases the instruction keyword of an instruction line. */
export function uppercaseCmd(s: string): string {
  const i = s.indexOf(' ');
  return i < 0 ? s.toUpperCase() : s.slice(0, i).toUpperCase() + s.slice(i);
}

/** Expands variables in a display name; on error shows the text unexpanded. */
export function processCmdEnv(lex: Lexer, text: string, env: ReadonlyMap<string, string>): string {
  try {
    return lex.processWord(text, env);
  } catch {
    return text;
  }
}

export function locationOf(opt: DispatchOpt, c: { location: { startLine: number; endLine: number } }) {
  return [{ file: opt.file, ranges: [{ startLine: c.location.startLine, endLine: c.location.endLine }] }];
}
