import { KilnError } from '../../api.ts';
import { expandCommand, type Command } from '../instructions/index.ts';
import type { DispatchState } from './dispatch-state.ts';
import { envOf, type DispatchOpt } from './dispatch-opt.ts';
import { suggest } from '../instructions/suggest.ts';
import * as cfg from './dispatch-config.ts';
import { dispatchRun } from './dispatch-run.ts';
import { dispatchCopy } from './dispatch-copy.ts';
import { dispatchWorkdir } from './dispatch-workdir.ts';
import { located } from './located.ts';

/** The most variables an UndefinedVar warning searches for a near name (each search is a Levenshtein per name). */
const SUGGEST_LIMIT = 200;

/**
 * Applies one instruction to its stage: expands variables where BuildKit does (with the
 * stage's env at that point), then updates the LLB state and the image config. Errors get
 * the instruction's location attached here, once.
 */
export function dispatch(d: DispatchState, raw: Command, opt: DispatchOpt): void {
  try {
    const env = envOf(d);
    const unmatched = new Set<string>();
    const expander = {
      word: (s: string) => {
        const m = opt.lex.processWordWithMatches(s, env);
        m.unmatched.forEach((u) => unmatched.add(u));
        return m.result;
      },
      words: (s: string) => {
        opt.lex.processWordWithMatches(s, env).unmatched.forEach((u) => unmatched.add(u));
        return opt.lex.processWords(s, env);
      },
    };
    const c = raw.kind === 'arg' ? raw : expandCommand(raw, expander);
    // UndefinedVar: a variable neither in the env nor declared as an ARG of the stage.
    for (const name of unmatched) {
      if (d.buildArgs.some((a) => a.key === name)) continue;
      // (past SUGGEST_LIMIT variables a "did you mean" costs more than it tells)
      const near = env.size <= SUGGEST_LIMIT ? suggest(name, [...env.keys()], true) : undefined;
      opt.lint.run('UndefinedVar', raw.location, `Usage of undefined variable '$${name}'${near ? ` (did you mean $${near}?)` : ''}`);
    }
    switch (c.kind) {
      case 'env':
        return cfg.dispatchEnv(d, c);
      case 'label':
        return cfg.dispatchLabel(d, c);
      case 'maintainer':
        return cfg.dispatchMaintainer(d, c);
      case 'cmd':
        return cfg.dispatchCmd(d, c, opt);
      case 'entrypoint':
        return cfg.dispatchEntrypoint(d, c, opt);
      case 'user':
        return cfg.dispatchUser(d, c);
      case 'volume':
        return cfg.dispatchVolume(d, c);
      case 'stopsignal':
        return cfg.dispatchStopsignal(d, c);
      case 'shell':
        return cfg.dispatchShell(d, c);
      case 'onbuild':
        return cfg.dispatchOnbuild(d, c);
      case 'healthcheck':
        return cfg.dispatchHealthcheck(d, c, opt);
      case 'expose':
        return cfg.dispatchExpose(d, c, opt);
      case 'arg':
        return cfg.dispatchArg(d, c, opt);
      case 'run':
        return dispatchRun(d, c, opt);
      case 'copy':
      case 'add':
        return dispatchCopy(d, c, opt);
      case 'workdir':
        return dispatchWorkdir(d, c, opt);
      case 'from':
        throw new KilnError('unexpected FROM inside a stage', { kind: 'internal' });
    }
  } catch (err) {
    throw located(err, opt.file, raw.location);
  }
}
