/**
 * The file name BuildKit gives a URL download (ADD <url>, a named context that is a URL):
 * the last element of the URL's decoded path, trailing slashes ignored (Go's
 * path.Base(url.Path)); `__unnamed__` when there is none, or when it would not be one plain
 * name (`..` from an encoded `a%2F..`, a NUL, an escape that does not decode). Undefined
 * when `text` is not a URL at all.
 */
export function urlFileName(text: string): string | undefined {
  let path: string;
  try {
    path = new URL(text).pathname;
  } catch {
    return undefined;
  }
  try {
    path = decodeURIComponent(path);
  } catch {
    return UNNAMED;
  }
  const base = path.replace(/\/+$/, '').split('/').pop() ?? '';
  return base === '' || base === '.' || base === '..' || base.includes('\0') ? UNNAMED : base;
}

const UNNAMED = '__unnamed__';
