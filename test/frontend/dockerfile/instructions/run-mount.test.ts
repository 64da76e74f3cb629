import { describe, expect, test } from 'bun:test';
import { parseMount, parseMounts, type Mount } from '../../../../src/frontend/dockerfile/instructions/index.ts';

const id = (s: string) => s;

const positive: [string, Partial<Mount>][] = [
  ['target=/src', { type: 'bind', target: '/src', readOnly: true, required: false }],
  ['type=bind,source=/a,target=/b,rw', { type: 'bind', source: '/a', target: '/b', readOnly: false }],
  ['src=/a,dst=/b,readwrite=true', { type: 'bind', source: '/a', target: '/b', readOnly: false }],
  ['destination=/b,ro=false', { type: 'bind', target: '/b', readOnly: false }],
  ['type=bind,from=build,target=/x,readonly', { type: 'bind', from: 'build', target: '/x', readOnly: true }],
  ['type=cache,target=/root/.cache', { type: 'cache', target: '/root/.cache', readOnly: false }],
  ['TYPE=Cache,Target=/c,ID=go,Sharing=LOCKED,mode=0750,uid=1000,gid=100,ro',
    { type: 'cache', target: '/c', cacheId: 'go', cacheSharing: 'locked', mode: 0o750, uid: 1000, gid: 100, readOnly: true }],
  ['type=cache,target=/c,sharing=private', { type: 'cache', cacheSharing: 'private', readOnly: false }],
  ['type=tmpfs,target=/t,size=64m', { type: 'tmpfs', target: '/t', sizeLimit: 64 * 1024 * 1024, readOnly: false }],
  ['type=tmpfs,target=/t,size=1.5GiB', { type: 'tmpfs', sizeLimit: 1.5 * 1024 ** 3 }],
  ['type=tmpfs,target=/t,size=100', { type: 'tmpfs', sizeLimit: 100 }],
  ['type=secret,id=npm', { type: 'secret', cacheId: 'npm', readOnly: true, required: false }],
  ['type=secret,id=tok,env=TOKEN,required', { type: 'secret', cacheId: 'tok', env: 'TOKEN', required: true }],
  ['type=secret,source=s,target=/run/s,required=false,mode=0400', { type: 'secret', source: 's', target: '/run/s', required: false, mode: 0o400 }],
  ['type=secret,target=/t,env=', { type: 'secret', target: '/t', env: '' }],
  ['type=ssh', { type: 'ssh', readOnly: true }],
  ['type=ssh,id=default,required=true,uid=1', { type: 'ssh', cacheId: 'default', required: true, uid: 1 }],
  ['"target=/a,b",type=cache', { type: 'cache', target: '/a,b' }],
  ['type=cache,target=/x,id=', { type: 'cache', target: '/x' }],
];

describe('parseMount with an expander (build time)', () => {
  for (const [val, expected] of positive) {
    test(val, () => {
      const m = parseMount(val, id);
      expect(m).toMatchObject(expected);
      if (!('cacheId' in expected)) expect(m.cacheId).toBeUndefined();
    });
  }

  test('every value is expanded on its own, after CSV splitting', () => {
    const seen: string[] = [];
    const env: Record<string, string> = { T: '/cache', K: 'cache' };
    const m = parseMount('type=$K,target=$T,id=a$T', (w) => {
      seen.push(w);
      return w.replace(/\$(\w+)/g, (_, k: string) => env[k] ?? '');
    });
    expect(seen).toEqual(['$K', '$T', 'a$T']);
    expect(m).toMatchObject({ type: 'cache', target: '/cache', cacheId: 'a/cache' });
  });

  test('parseMounts keeps order', () => {
    expect(parseMounts(['type=cache,target=/a', 'target=/b'], id).map((m) => m.target)).toEqual(['/a', '/b']);
  });
});

describe('parseMount without an expander (parse time) checks only what cannot depend on variables', () => {
  test('values are deferred: defaults only', () => {
    expect(parseMount('type=bogus,size=huge,ro')).toEqual({ type: 'bind', readOnly: true, required: false });
  });
  test('from= with a variable is refused', () => {
    expect(() => parseMount('from=${X}')).toThrow("'from' doesn't support variable expansion, define alias stage instead");
  });
  test('from= ending in $ is allowed', () => {
    expect(parseMount('from=a$')).toMatchObject({ from: 'a$' });
  });
});

const negative: [string, string][] = [
  ['type=cahce', 'unsupported mount type "cahce" (did you mean cache?)'],
  ['type=volume', 'unsupported mount type "volume"'],
  ['tagret=/x', "unexpected key 'tagret' in 'tagret=/x' (did you mean target?)"],
  ['TARGT=/x', "unexpected key 'targt' in 'TARGT=/x' (did you mean target?)"],
  ['foo', "invalid field 'foo' must be a key=value pair"],
  ['required', "unexpected key 'required' for mount type 'bind'"],
  ['required,type=secret,id=x', "unexpected key 'required' for mount type 'bind'"],
  ['type=cache,required=true', "unexpected key 'required' for mount type 'cache'"],
  ['type=secret,id=x,required=maybe', 'invalid value for required: maybe'],
  ['ro=maybe', 'invalid value for ro: maybe'],
  ['rw=2', 'invalid value for rw: 2'],
  ['type=cache,size=1m', "unexpected key 'size' for mount type 'cache'"],
  ['type=tmpfs,size=abc', 'invalid value for size: abc'],
  ['type=tmpfs,size=1q', 'invalid value for size: 1q'],
  ['type=cache,sharing=lokked', 'unsupported sharing value "lokked" (did you mean locked?)'],
  ['sharing=shared', 'invalid cache sharing set for bind mount'],
  ['type=cache,mode=0789', 'invalid value 0789 for mode'],
  ['type=cache,uid=-1', 'invalid value -1 for uid'],
  ['type=cache,gid=4294967296', 'invalid value 4294967296 for gid'],
  ['type=bind,mode=0644', 'mode not allowed for "bind" type mounts'],
  ['type=tmpfs,uid=1', 'uid not allowed for "tmpfs" type mounts'],
  ['gid=1', 'gid not allowed for "bind" type mounts'],
  ['type=secret', 'invalid secret mount. one of source, target required'],
  ['type=secret,id=a,from=b', 'secret mount should not have a from'],
  ['type=secret,id=a,sharing=locked', 'secret mount should not define sharing'],
  ['type=secret,id=a,source=b', "both source and id can't be set"],
  ['target="/x', 'failed to parse csv mounts: parse error on line 1, column 8: bare " in non-quoted-field'],
  ['"target=/x', 'failed to parse csv mounts: parse error on line 1, column 2: extraneous or missing " in quoted-field'],
  ['"target=/x"y', 'failed to parse csv mounts: parse error on line 1, column 11: extraneous or missing " in quoted-field'],
  ['', 'failed to parse csv mounts: EOF'],
];

describe('parseMount errors', () => {
  for (const [val, message] of negative) {
    test(val || '(empty)', () => {
      expect(() => parseMount(val, id)).toThrow(message);
      try {
        parseMount(val, id);
      } catch (e) {
        expect((e as Error).message).toBe(message);
      }
    });
  }
});
