/** Cache flags as buildx and buildctl spell them, and the errors for what kiln cannot do. */
import { describe, expect, test } from 'bun:test';
import { parseCacheSpecs } from '../../src/cli/cache-options.ts';
import { parseCacheDocument, inlineRecords } from '../../src/cache/format.ts';
import { KilnError } from '../../src/util/errors.ts';
import { buildRequestFromFlags } from '../../src/cli/build-command.ts';
import { makeTempDir, removeAll } from '../../src/util/fs.ts';

const fails = (f: () => unknown): string => {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(KilnError);
    return (err as KilnError).message;
  }
  throw new Error('expected an error');
};

describe('cache specs', () => {
  test('a bare reference is type=registry,ref=REF; the type follows ref/src/dest when missing', () => {
    expect(parseCacheSpecs(['reg.example/app:cache'], 'import', '--cache-from')).toEqual([{ type: 'registry', attrs: { ref: 'reg.example/app:cache' }, label: '--cache-from type=registry' }]);
    expect(parseCacheSpecs(['ref=r/app:c,mode=max'], 'export', '--cache-to')[0]!.type).toBe('registry');
    expect(parseCacheSpecs(['src=/tmp/c'], 'import', '--import-cache')[0]!.type).toBe('local');
    const full = parseCacheSpecs(['type=registry,ref=r/app:c,mode=max,image-manifest=false,oci-mediatypes=true,compression=zstd,compression-level=3,force-compression=true,ignore-error=true'], 'export', '--cache-to');
    expect(full[0]!.attrs.mode).toBe('max');
    expect(parseCacheSpecs(['type=inline'], 'export', '--export-cache')).toEqual([{ type: 'inline', attrs: {}, label: '--export-cache type=inline' }]);
    expect(parseCacheSpecs(['type=local,src=/c,tag=v1,digest=sha256:' + 'a'.repeat(64)], 'import', '--cache-from')[0]!.attrs.tag).toBe('v1');
  });

  test('clear errors: unknown attribute (with the nearest), missing ref/dest/src, bad mode, other backends', () => {
    expect(fails(() => parseCacheSpecs(['type=registry,ref=r/a,mod=max'], 'export', '--cache-to'))).toBe('--cache-to type=registry: unknown attribute "mod" (did you mean mode?)');
    expect(fails(() => parseCacheSpecs(['type=registry,mode=max'], 'export', '--cache-to'))).toContain('ref= is required');
    expect(fails(() => parseCacheSpecs(['type=local'], 'export', '--cache-to'))).toContain('dest= is required');
    expect(fails(() => parseCacheSpecs(['type=local,dest=/x'], 'import', '--cache-from'))).toContain('unknown attribute "dest"');
    expect(fails(() => parseCacheSpecs(['type=registry,ref=r/a,mode=all'], 'export', '--cache-to'))).toContain('mode must be min or max');
    expect(fails(() => parseCacheSpecs(['type=gha'], 'export', '--cache-to'))).toContain('not supported by kiln');
    expect(fails(() => parseCacheSpecs(['type=inline'], 'import', '--cache-from'))).toContain('unknown cache type');
    expect(fails(() => parseCacheSpecs(['type=registry,ref=r/a,image-manifest=true,oci-mediatypes=false'], 'export', '--cache-to'))).toContain('needs oci-mediatypes=true');
  });
});

describe('cache flags in a build request', () => {
  test('registry.insecure=true makes that registry plain http; BUILDKIT_INLINE_CACHE=1 is an inline export', async () => {
    const dir = await makeTempDir('kiln-cache-flags-');
    try {
      const req = await buildRequestFromFlags(dir, {
        cacheFrom: ['type=registry,ref=reg.example:5000/app:cache,registry.insecure=true', 'other.example/app:cache'],
        exportCache: 'type=local,dest=/tmp/x',
        buildArg: 'BUILDKIT_INLINE_CACHE=1',
      });
      expect(req.registry.insecureHosts).toContain('reg.example:5000');
      expect(req.registry.insecureHosts).not.toContain('other.example');
      expect(req.cacheImports.map((c) => c.attrs.ref)).toEqual(['reg.example:5000/app:cache', 'other.example/app:cache']);
      expect(req.cacheExports.map((c) => c.type)).toEqual(['local', 'inline']);
    } finally {
      await removeAll(dir);
    }
  });
});

describe('cache documents (untrusted input)', () => {
  const enc = (x: unknown) => new TextEncoder().encode(JSON.stringify(x));
  const layer = { digest: `sha256:${'b'.repeat(64)}`, size: 3, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', diffId: `sha256:${'c'.repeat(64)}` };

  test('valid documents parse; a chain naming a missing layer, a bad digest or not JSON are refused', () => {
    expect(parseCacheDocument(enc({ layers: [layer], records: [{ key: 'k', output: 0, chain: [0] }] }), 'R').records).toHaveLength(1);
    expect(fails(() => parseCacheDocument(enc({ layers: [layer], records: [{ key: 'k', output: 0, chain: [1] }] }), 'R'))).toContain('names a layer that is not there');
    expect(fails(() => parseCacheDocument(enc({ layers: [{ ...layer, digest: 'md5:x' }], records: [] }), 'R'))).toContain('invalid cache document');
    expect(fails(() => parseCacheDocument(new TextEncoder().encode('{'), 'R'))).toContain('not JSON');
  });

  test('inline records index the image\'s layers', () => {
    expect(inlineRecords({ architecture: 'amd64' }, 2, 'R')).toBeUndefined();
    expect(inlineRecords({ 'kiln.cache.v1': { records: [{ key: 'k', output: 0, chain: [0, 1] }] } }, 2, 'R')).toHaveLength(1);
    expect(fails(() => inlineRecords({ 'kiln.cache.v1': { records: [{ key: 'k', output: 0, chain: [2] }] } }, 2, 'R'))).toContain('names a layer');
  });
});
