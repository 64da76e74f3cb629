/** A git source: the remote to fetch, and `#ref:subdir` split out. */
export interface GitUrl {
  remote: string;
  ref: string;
  subdir?: string;
}

/**
 * Parses a git URL as docker and BuildKit recognize one: `git://`, `ssh://`, `git@host:path`,
 * an http(s) URL of a `.git` repository, and (with `githubShorthand`, as docker build's
 * context and named contexts allow) `github.com/user/repo`; `#ref[:subdir]` after it.
 * Undefined for anything else.
 */
export function parseGitUrl(s: string, opts: { githubShorthand?: boolean } = {}): GitUrl | undefined {
  const hash = s.indexOf('#');
  let remote = hash < 0 ? s : s.slice(0, hash);
  const isGit =
    /^git:\/\//.test(remote) ||
    /^ssh:\/\//.test(remote) ||
    /^git@[^:]+:/.test(remote) ||
    /^https?:\/\/.+\.git\/?$/.test(remote) ||
    (!!opts.githubShorthand && /^github\.com\//.test(remote));
  if (!isGit) return undefined;
  if (remote.startsWith('github.com/')) remote = `https://${remote}`;
  const [ref = '', subdir] = (hash < 0 ? '' : s.slice(hash + 1)).split(':');
  return { remote, ref, subdir: subdir || undefined };
}
