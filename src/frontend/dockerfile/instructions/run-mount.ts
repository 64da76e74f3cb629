/**
 * RUN --mount values → typed mounts, as BuildKit's commands_runmount.go. Keys are
 * case-insensitive; values are expanded one by one (after CSV splitting), never the whole string.
 *
 * Without an expander (parse time) only what cannot depend on variables is checked: the CSV
 * syntax and that `from=` holds no variable; other keys are skipped and the defaults apply.
 */

import type { Mount, MountSharing, MountType } from './types.ts';
import { csvFields, goQuote, parseGoBool, parseGoUint, ramInBytes } from './go-values.ts';
import { withSuggestion } from './suggest.ts';

const mountTypes: readonly MountType[] = ['bind', 'cache', 'tmpfs', 'secret', 'ssh'];
const sharingModes: readonly MountSharing[] = ['shared', 'private', 'locked'];

/** Every key BuildKit accepts, in the order it lists them for suggestions. */
export const mountKeys: readonly string[] = [
  'type', 'from', 'source', 'target', 'readonly', 'id', 'sharing', 'required', 'size', 'mode',
  'uid', 'gid', 'src', 'dst', 'destination', 'ro', 'rw', 'readwrite', 'env',
];

/** Parse each raw --mount value; throws a plain Error (BuildKit's wording) on the first bad one. */
export function parseMounts(values: readonly string[], expand?: (word: string) => string): Mount[] {
  return values.map((v) => parseMount(v, expand));
}

function boolValue(key: string, value: string): boolean {
  const b = parseGoBool(value);
  if (b === undefined) throw new Error(`invalid value for ${key}: ${value}`);
  return b;
}

/** Parse one --mount value. Pure; `expand` is called once per `key=value` value, in order. */
export function parseMount(val: string, expand?: (word: string) => string): Mount {
  let fields: string[];
  try {
    fields = csvFields(val);
  } catch (e) {
    throw new Error(`failed to parse csv mounts: ${(e as Error).message}`);
  }
  const m: Mount = { type: 'bind', readOnly: false, required: false };
  let roAuto = true;
  const set = <K extends 'from' | 'source' | 'target' | 'cacheId'>(k: K, v: string) => {
    if (v === '') delete m[k];
    else m[k] = v;
  };

  for (const field of fields) {
    const eq = field.indexOf('=');
    const key = (eq >= 0 ? field.slice(0, eq) : field).toLowerCase();
    let value = eq >= 0 ? field.slice(eq + 1) : '';

    if (eq < 0) {
      if (!expand) continue;
      switch (key) {
        case 'readonly':
        case 'ro':
          m.readOnly = true;
          roAuto = false;
          continue;
        case 'readwrite':
        case 'rw':
          m.readOnly = false;
          roAuto = false;
          continue;
        case 'required':
          if (m.type === 'secret' || m.type === 'ssh') {
            m.required = true;
            continue;
          }
          throw new Error(`unexpected key '${key}' for mount type '${m.type}'`);
        default:
          throw new Error(`invalid field '${field}' must be a key=value pair`);
      }
    }

    if (expand) {
      value = expand(value);
    } else if (key === 'from') {
      const i = value.indexOf('$');
      if (i !== -1 && i !== value.length - 1) {
        throw new Error(`'${key}' doesn't support variable expansion, define alias stage instead`);
      }
    } else {
      continue;
    }

    switch (key) {
      case 'type': {
        const t = value.toLowerCase() as MountType;
        if (!mountTypes.includes(t)) {
          throw new Error(withSuggestion(`unsupported mount type ${goQuote(value)}`, value, mountTypes, true));
        }
        m.type = t;
        break;
      }
      case 'from':
        set('from', value);
        break;
      case 'source':
      case 'src':
        set('source', value);
        break;
      case 'target':
      case 'dst':
      case 'destination':
        set('target', value);
        break;
      case 'readonly':
      case 'ro':
        m.readOnly = boolValue(key, value);
        roAuto = false;
        break;
      case 'readwrite':
      case 'rw':
        m.readOnly = !boolValue(key, value);
        roAuto = false;
        break;
      case 'required':
        if (m.type !== 'secret' && m.type !== 'ssh') throw new Error(`unexpected key '${key}' for mount type '${m.type}'`);
        m.required = boolValue(key, value);
        break;
      case 'size':
        if (m.type !== 'tmpfs') throw new Error(`unexpected key '${key}' for mount type '${m.type}'`);
        try {
          m.sizeLimit = ramInBytes(value);
        } catch {
          throw new Error(`invalid value for ${key}: ${value}`);
        }
        break;
      case 'id':
        set('cacheId', value);
        break;
      case 'sharing': {
        const s = value.toLowerCase() as MountSharing;
        if (!sharingModes.includes(s)) {
          throw new Error(withSuggestion(`unsupported sharing value ${goQuote(value)}`, value, sharingModes, true));
        }
        m.cacheSharing = s;
        break;
      }
      case 'mode': {
        const n = parseGoUint(value, 8, 32);
        if (n === undefined) throw new Error(`invalid value ${value} for mode`);
        m.mode = n;
        break;
      }
      case 'uid':
      case 'gid': {
        const n = parseGoUint(value, 10, 32);
        if (n === undefined) throw new Error(`invalid value ${value} for ${key}`);
        m[key] = n;
        break;
      }
      case 'env':
        m.env = value;
        break;
      default:
        throw new Error(withSuggestion(`unexpected key '${key}' in '${field}'`, key, mountKeys, true));
    }
  }

  const fileInfoAllowed = m.type === 'secret' || m.type === 'ssh' || m.type === 'cache';
  if (!fileInfoAllowed) {
    for (const k of ['mode', 'uid', 'gid'] as const) {
      if (m[k] !== undefined) throw new Error(`${k} not allowed for ${goQuote(m.type)} type mounts`);
    }
  }
  if (roAuto) m.readOnly = !(m.type === 'cache' || m.type === 'tmpfs');

  if (m.type === 'secret') {
    if (m.from !== undefined) throw new Error('secret mount should not have a from');
    if (m.cacheSharing !== undefined) throw new Error('secret mount should not define sharing');
    if (m.source === undefined && m.target === undefined && m.cacheId === undefined) {
      throw new Error('invalid secret mount. one of source, target required');
    }
    if (m.source !== undefined && m.cacheId !== undefined) throw new Error("both source and id can't be set");
  }
  if (m.cacheSharing !== undefined && m.type !== 'cache') {
    throw new Error(`invalid cache sharing set for ${m.type} mount`);
  }
  return m;
}
