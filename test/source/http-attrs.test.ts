/**
 * An http source's attributes come from a frontend's LLB, not from kiln: a file name that
 * climbs out of the snapshot, or an owner or mode that is not a number, is refused when
 * the source is made, before anything is downloaded or written.
 */
import { expect, test } from 'bun:test';
import { createHttpSource } from '../../src/source/http.ts';
import type { SourceContext } from '../../src/source/types.ts';

const make = (attrs: Record<string, string>) => () => createHttpSource()('http://127.0.0.1:1/f', attrs, {} as SourceContext);

for (const filename of ['../escape', '../../etc/passwd', 'a/b', '/abs', '.', '..', 'nul\0byte', 'x'.repeat(256)]) {
  test(`http.filename ${JSON.stringify(filename.slice(0, 20))} is refused`, () => {
    expect(make({ 'http.filename': filename })).toThrow(/http source: file name/);
  });
}

for (const [key, value] of [
  ['http.perm', 'rwx'],
  ['http.perm', '1777777'],
  ['http.uid', 'root'],
  ['http.uid', '-1'],
  ['http.gid', '4294967296'],
  ['http.uid', '1e3'],
] as const) {
  test(`${key}=${value} is refused`, () => {
    expect(make({ [key]: value })).toThrow(new RegExp(`http source: ${key.replace('.', '\\.')}`));
  });
}

test('a plain name, mode and owner are accepted', () => {
  expect(make({ 'http.filename': 'app.tar.gz', 'http.perm': '644', 'http.uid': '1000', 'http.gid': '0' })).not.toThrow();
  expect(make({})).not.toThrow();
});
