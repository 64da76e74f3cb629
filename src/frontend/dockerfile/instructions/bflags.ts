/**
 * Instruction flags with BuildKit's BFlags semantics (bflag.go): declare the flags an
 * instruction accepts, then `parse` the node's `--name[=value]` words once.
 *
 * - string flags need `=` (`--from=` sets ''), booleans take `--x`, `--x=true|false` (any
 *   case), string arrays repeat; any other flag given twice is an error;
 * - a bare `--` stops flag processing; a word without `--` is an error;
 * - unknown flags get a "did you mean" suggestion from the declared names.
 */

import { withSuggestion } from './suggest.ts';

type FlagType = 'bool' | 'string' | 'strings';

interface FlagDecl {
  type: FlagType;
  value: string;
  values: string[];
}

export interface BFlags {
  /** Declare a boolean flag; its value reads 'true' or 'false'. */
  addBool(name: string, def?: boolean): void;
  addString(name: string, def?: string): void;
  addStrings(name: string): void;
  /** Parse the flag words; throws a plain Error with BuildKit's wording. Call at most once. */
  parse(): void;
  /** The flag's value: the default until given. */
  value(name: string): string;
  bool(name: string): boolean;
  values(name: string): string[];
  isUsed(name: string): boolean;
  /** Names of the flags given, sorted. */
  used(): string[];
}

export function createBFlags(args: readonly string[]): BFlags {
  const flags = new Map<string, FlagDecl>();
  const used = new Set<string>();
  let setupError: string | undefined;

  function add(name: string, type: FlagType, value: string): void {
    if (flags.has(name)) {
      setupError ??= `Duplicate flag defined: ${name}`;
      return;
    }
    flags.set(name, { type, value, values: [] });
  }

  function get(name: string): FlagDecl {
    const f = flags.get(name);
    if (!f) throw new Error(`internal: flag ${name} not declared`);
    return f;
  }

  return {
    addBool: (name, def = false) => add(name, 'bool', def ? 'true' : 'false'),
    addString: (name, def = '') => add(name, 'string', def),
    addStrings: (name) => add(name, 'strings', ''),
    value: (name) => get(name).value,
    bool: (name) => get(name).value === 'true',
    values: (name) => [...get(name).values],
    isUsed: (name) => used.has(name),
    used: () => [...used].sort(),
    parse() {
      if (setupError) throw new Error(`error setting up flags: ${setupError}`);
      for (const a of args) {
        if (a === '--') return;
        if (!a.startsWith('--')) throw new Error(`arg should start with -- : ${a}`);
        const eq = a.indexOf('=');
        const hasValue = eq >= 0;
        const flagName = hasValue ? a.slice(0, eq) : a;
        const value = hasValue ? a.slice(eq + 1) : '';
        const name = flagName.slice(2);
        const flag = flags.get(name);
        if (!flag) throw new Error(withSuggestion(`unknown flag: ${flagName}`, name, [...flags.keys()], true));
        if (used.has(name) && flag.type !== 'strings') throw new Error(`duplicate flag specified: ${flagName}`);
        used.add(name);
        switch (flag.type) {
          case 'bool': {
            if (hasValue && value === '') throw new Error(`missing a value on flag: ${flagName}`);
            const v = value.toLowerCase();
            if (v === 'true' || v === '') flag.value = 'true';
            else if (v === 'false') flag.value = 'false';
            else throw new Error(`expecting boolean value for flag ${flagName}, not: ${value}`);
            break;
          }
          case 'string':
            if (!hasValue) throw new Error(`missing a value on flag: ${flagName}`);
            flag.value = value;
            break;
          case 'strings':
            if (!hasValue) throw new Error(`missing a value on flag: ${flagName}`);
            flag.values.push(value);
            break;
        }
      }
    },
  };
}
