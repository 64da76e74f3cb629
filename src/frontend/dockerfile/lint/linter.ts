import { KilnError } from '../../api.ts';
import type { FrontendWarning } from '../../api.ts';
import { RULES, type RuleName } from './rules.ts';

export interface LintWarning {
  rule: RuleName;
  message: string;
  startLine: number;
  endLine: number;
}

/**
 * Collects build-check warnings, honouring `# check=skip=A,B|all;error=true` and the
 * BUILDKIT_DOCKERFILE_CHECK build arg (same syntax; it wins over the directive).
 */
export interface Linter {
  run(rule: RuleName, location: { startLine: number; endLine: number }, message: string): void;
  readonly warnings: LintWarning[];
  /** Throws BuildKit's error when `error=true` and there were warnings. */
  finish(file: string): void;
}

export function parseCheckDirective(value: string | undefined): { skip: Set<string>; all: boolean; error: boolean } {
  const out = { skip: new Set<string>(), all: false, error: false };
  if (!value) return out;
  for (const part of value.split(';')) {
    const [k, v = ''] = part.split('=', 2).map((s) => s.trim()) as [string, string?];
    if (k.toLowerCase() === 'skip') {
      for (const name of v.split(',').map((s) => s.trim()).filter(Boolean)) {
        if (name.toLowerCase() === 'all') out.all = true;
        else out.skip.add(name);
      }
    } else if (k.toLowerCase() === 'error') out.error = v.toLowerCase() === 'true';
  }
  return out;
}

export function createLinter(directive: string | undefined, warn: (w: FrontendWarning) => void, file: string): Linter {
  const cfg = parseCheckDirective(directive);
  const warnings: LintWarning[] = [];
  const seen = new Set<string>();
  return {
    warnings,
    run(rule, loc, message) {
      if (cfg.all || cfg.skip.has(rule)) return;
      const key = `${rule}:${loc.startLine}:${message}`;
      if (seen.has(key)) return;
      seen.add(key);
      warnings.push({ rule, message, startLine: loc.startLine, endLine: loc.endLine });
      warn({ rule, message: `${rule}: ${message} (line ${loc.startLine})`, location: { file, startLine: loc.startLine, endLine: loc.endLine } });
    },
    finish(f) {
      if (cfg.error && warnings.length) {
        const first = warnings[0]!;
        throw new KilnError(`lint violation found for rules: ${[...new Set(warnings.map((w) => w.rule))].join(', ')}`, {
          kind: 'input',
          location: { file: f, startLine: first.startLine, endLine: first.endLine },
          details: warnings.map((w) => `${w.rule}: ${w.message} (line ${w.startLine}) — ${RULES[w.rule].url}`),
        });
      }
    },
  };
}
