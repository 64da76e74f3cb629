/** BuildKit's build checks for Dockerfiles: rules, the linter, and the checks on the parsed file. */
export { RULES, type Rule, type RuleName } from './rules.ts';
export { createLinter, parseCheckDirective, type Linter, type LintWarning } from './linter.ts';
export { runStaticChecks, looksSecret, keywordOf } from './static-checks.ts';
