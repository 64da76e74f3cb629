/** RUN --device values → `Device`, as BuildKit's commands_rundevice.go (`name[,required[=bool]]`). */

import type { Device } from './types.ts';
import { csvFields, parseGoBool } from './go-values.ts';
import { withSuggestion } from './suggest.ts';

/** Parse one --device value; throws a plain Error with BuildKit's wording. Pure. */
export function parseDevice(val: string): Device {
  let fields: string[];
  try {
    fields = csvFields(val);
  } catch (e) {
    throw new Error(`failed to parse csv devices: ${(e as Error).message}`);
  }
  const d: Device = { name: '', required: false };
  for (const field of fields) {
    const eq = field.indexOf('=');
    const key = (eq >= 0 ? field.slice(0, eq) : field).toLowerCase();
    const value = eq >= 0 ? field.slice(eq + 1) : '';
    if (eq < 0) {
      if (key === 'required') {
        d.required = true;
        continue;
      }
      if (d.name === '') {
        d.name = field;
        continue;
      }
      throw new Error(`invalid field '${field}' must be a key=value pair`);
    }
    switch (key) {
      case 'name':
        if (d.name !== '') throw new Error(`device name already set to ${d.name}`);
        d.name = value;
        break;
      case 'required': {
        const b = parseGoBool(value);
        if (b === undefined) throw new Error(`invalid value for ${key}: ${value}`);
        d.required = b;
        break;
      }
      default:
        if (d.name === '') {
          d.name = field;
          continue;
        }
        throw new Error(withSuggestion(`unexpected key '${key}' in '${field}'`, key, ['name', 'required'], true));
    }
  }
  return d;
}
