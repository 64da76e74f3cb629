import { usageError } from '../util/errors.ts';
import type { OutputSpec } from './request.ts';

/** cac gives a string for one occurrence and an array for several; always an array here. */
export function many(v: unknown): string[] {
  if (v === undefined || v === null || v === false) return [];
  return (Array.isArray(v) ? v : [v]).map(String);
}

/** `K=V` pairs; a bare `K` takes its value from the environment (as docker's --build-arg). */
export function parseKeyValues(items: string[], flag: string, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items) {
    const i = item.indexOf('=');
    if (i === 0) throw usageError(`invalid ${flag} "${item}": want KEY=VALUE`);
    if (i < 0) {
      const v = env[item];
      if (v !== undefined) out[item] = v;
      continue;
    }
    out[item.slice(0, i)] = item.slice(i + 1);
  }
  return out;
}

/** A comma-separated attribute list `type=oci,dest=x` (values may be double-quoted, like CSV). */
export function parseAttrs(spec: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const field of splitCsv(spec)) {
    const i = field.indexOf('=');
    if (i < 0) out[field.trim()] = '';
    else out[field.slice(0, i).trim().toLowerCase()] = field.slice(i + 1);
  }
  return out;
}

function splitCsv(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '"') quoted = !quoted;
    else if (c === ',' && !quoted) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out.filter((f) => f !== '');
}

/**
 * `-o`/`--output`: `type=T,k=v,...`; a plain path means `type=local,dest=PATH`, and `-`
 * means a tar on stdout (as buildx).
 */
export function parseOutput(spec: string): OutputSpec {
  if (!spec.includes('=')) {
    if (spec === '-') return { type: 'tar', attrs: { dest: '-' } };
    return { type: 'local', attrs: { dest: spec } };
  }
  const attrs = parseAttrs(spec);
  const type = attrs.type;
  if (!type) throw usageError(`invalid output "${spec}": missing type=`, 'e.g. -o type=oci,dest=image.tar');
  delete attrs.type;
  return { type, attrs };
}
