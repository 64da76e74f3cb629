/**
 * The name of an ADD <url> download, as BuildKit derives it (path.Base of the decoded URL
 * path), and the hostile forms that must not become a path out of the download's snapshot.
 */
import { expect, test } from 'bun:test';
import { urlFileName } from '../../../../src/frontend/dockerfile/convert/url-file-name.ts';

for (const [url, name] of [
  ['https://example.com/pkg/app.tar.gz', 'app.tar.gz'],
  ['https://example.com/pkg/app.tar.gz?sig=1#frag', 'app.tar.gz'],
  ['https://example.com/dir/', 'dir'],
  ['https://example.com/dir//', 'dir'],
  ['https://example.com/a%20b.txt', 'a b.txt'],
  ['https://example.com/', '__unnamed__'],
  ['https://example.com', '__unnamed__'],
  // encoded separators decode to a path whose last element is taken, never a climb
  ['https://example.com/x%2Fy', 'y'],
  ['https://example.com/a%2F..', '__unnamed__'],
  ['https://example.com/a/%2e%2e', '__unnamed__'],
  ['https://example.com/a/..%2F..%2F', '__unnamed__'],
  ['https://example.com/nul%00', '__unnamed__'],
  ['https://example.com/bad%zz', '__unnamed__'],
  ['https://example.com/notutf8%ff', '__unnamed__'],
] as const) {
  test(`${url} → ${name}`, () => expect(urlFileName(url)).toBe(name));
}

test('a word that is no URL gives undefined', () => {
  expect(urlFileName('http://')).toBeUndefined();
  expect(urlFileName('not a url')).toBeUndefined();
});
