import { readFile } from 'node:fs/promises';
import { usageError } from '../util/errors.ts';
import { parseAttrs } from './parse-flags.ts';

/**
 * `--secret id=X,src=FILE` | `id=X,env=VAR` | `id=X` (the env var X when set, else a file
 * named X), as docker buildx reads them. Values are read once, kept in memory, and never
 * written anywhere by kiln.
 */
export async function loadSecrets(specs: string[], env: NodeJS.ProcessEnv = process.env): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  for (const spec of specs) {
    const a = parseAttrs(spec);
    const id = a.id;
    if (!id) throw usageError(`invalid --secret "${spec}": missing id=`, 'e.g. --secret id=token,src=./token.txt');
    const src = a.src ?? a.source;
    const type = a.type;
    if (src !== undefined && a.env !== undefined) throw usageError(`invalid --secret "${spec}": give src= or env=, not both`);
    if (a.env !== undefined || (type === 'env' && src === undefined)) {
      const name = a.env ?? id;
      const v = env[name];
      if (v === undefined) throw usageError(`secret ${id}: environment variable ${name} is not set`);
      out.set(id, new TextEncoder().encode(v));
    } else if (src !== undefined) {
      out.set(id, await readFile(src).catch(() => {
        throw usageError(`secret ${id}: cannot read ${src}`);
      }));
    } else if (env[id] !== undefined) {
      out.set(id, new TextEncoder().encode(env[id]));
    } else {
      out.set(id, await readFile(id).catch(() => {
        throw usageError(`secret ${id}: neither the environment variable ${id} nor a file ${id} exists`, `use --secret id=${id},src=FILE`);
      }));
    }
  }
  return out;
}
