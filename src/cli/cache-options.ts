/**
 * Cache import/export specs from buildx (`--cache-from`, `--cache-to`) and buildctl
 * (`--import-cache`, `--export-cache`) flags: `type=T,K=V,...`, or a bare reference meaning
 * `type=registry,ref=REF` (as buildx reads it). Attributes are BuildKit's; unknown ones are
 * refused, naming the known ones.
 */
import { usageError } from '../util/errors.ts';
import { unknownAttribute } from './unknown-option.ts';
import { parseAttrs } from './parse-flags.ts';
import type { OutputSpec } from './request.ts';

const EXPORT_COMMON = ['mode', 'oci-mediatypes', 'image-manifest', 'compression', 'compression-level', 'force-compression', 'ignore-error'];
const KEYS: Record<'import' | 'export', Record<string, string[]>> = {
  import: { registry: ['ref', 'registry.insecure'], local: ['src', 'tag', 'digest'] },
  export: { registry: ['ref', 'registry.insecure', ...EXPORT_COMMON], local: ['dest', 'tag', ...EXPORT_COMMON], inline: [] },
};
/** BuildKit's other backends, named in the error. */
const ELSEWHERE = ['gha', 's3', 'azblob'];

/** The specs of one direction's flag values. */
export function parseCacheSpecs(values: string[], direction: 'import' | 'export', flag: string): OutputSpec[] {
  return values.map((value) => {
    const attrs = value.includes('=') ? parseAttrs(value) : { type: 'registry', ref: value };
    const type = attrs.type ?? (attrs.ref ? 'registry' : attrs.src || attrs.dest ? 'local' : undefined);
    delete attrs.type;
    if (!type) throw usageError(`invalid ${flag} "${value}": missing type=`, 'e.g. type=registry,ref=REGISTRY/REPO:cache or type=local,dest=DIR');
    const label = `${flag} type=${type}`;
    const known = KEYS[direction][type];
    if (!known) {
      const types = Object.keys(KEYS[direction]);
      throw usageError(`${label}: ${ELSEWHERE.includes(type) ? 'this cache backend is not supported by kiln' : 'unknown cache type'}`, `use ${types.join(', ')}`);
    }
    for (const k of Object.keys(attrs)) {
      if (known.includes(k)) continue;
      throw unknownAttribute(label, k, known, `type=${type} takes no attributes`);
    }
    if (type === 'registry' && !attrs.ref) throw usageError(`${label}: ref= is required`, 'e.g. ref=REGISTRY/REPO:buildcache');
    if (type === 'local' && direction === 'export' && !attrs.dest) throw usageError(`${label}: dest= is required`, 'e.g. dest=/var/cache/kiln');
    if (type === 'local' && direction === 'import' && !attrs.src) throw usageError(`${label}: src= is required`, 'e.g. src=/var/cache/kiln');
    if (attrs.mode !== undefined && attrs.mode !== 'min' && attrs.mode !== 'max') throw usageError(`${label}: mode must be min or max, not "${attrs.mode}"`);
    if (attrs['image-manifest'] === 'true' && attrs['oci-mediatypes'] === 'false') throw usageError(`${label}: image-manifest=true needs oci-mediatypes=true`);
    return { type, attrs, label };
  });
}
