import type { ImageConfigFile } from '../../api.ts';
import type { State } from '../../api.ts';
import type { Platform } from '../../api.ts';
import type { Stage, ArgKeyValue } from '../instructions/index.ts';

/** One stage while it is converted. Mutable by design: dispatch functions update it in order. */
export interface DispatchState {
  stage: Stage;
  index: number;
  /** `AS` name, or `stage-N`. */
  stageName: string;
  /** The stage this one is built FROM, if any. */
  base?: DispatchState;
  /** Stages this one needs (FROM, COPY --from). */
  deps: Set<DispatchState>;
  state: State;
  image: ImageConfigFile;
  platform: Platform;
  /** ARGs declared in this stage (and inherited from its base stage), in order. */
  buildArgs: ArgKeyValue[];
  cmdIndex: number;
  cmdTotal: number;
  cmdSet: boolean;
  /** The command being dispatched is an ONBUILD trigger (its step name says so). */
  cmdIsOnBuild: boolean;
  /** Where CMD, ENTRYPOINT and HEALTHCHECK were last set in this stage (MultipleInstructionsDisallowed). */
  seen: Partial<Record<'cmd' | 'entrypoint' | 'healthcheck', { startLine: number; endLine: number }>>;
  /** A WORKDIR was set in this build (WorkdirRelativePath checks only the first). */
  workdirSet: boolean;
  /** `--no-cache-filter` names this stage: its steps always run. */
  ignoreCache: boolean;
  dispatched: boolean;
  /** The base is an image (not scratch, not a stage). */
  fromImage: boolean;
}
