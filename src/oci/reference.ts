/**
 * Image references with Docker's normalization (distribution/reference `ParseNormalizedNamed`
 * + `TagNameOnly`): `alpine` → `docker.io/library/alpine:latest`. Error messages follow
 * docker's wording so users recognise them.
 */
import type { Digest } from '../util/digest.ts';
import { KilnError } from '../util/errors.ts';

export interface Reference {
  /** Registry host with optional port: `docker.io`, `127.0.0.1:5000`, `ghcr.io`. */
  domain: string;
  /** Repository path inside the registry: `library/alpine`, `a/b`. */
  path: string;
  /** Set unless the reference names only a digest (`latest` is filled in when neither is given). */
  tag?: string;
  digest?: Digest;
}

export const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
const OFFICIAL_REPO_PREFIX = 'library/';
const NAME_TOTAL_LENGTH_MAX = 255;

const ALNUM = '[a-z0-9]+';
const SEPARATOR = '(?:[._]|__|[-]+)';
const PATH_COMPONENT = `${ALNUM}(?:${SEPARATOR}${ALNUM})*`;
const REMOTE_NAME = `${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const HOST = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[(?:[a-fA-F0-9:]+)\\])`;
const DOMAIN_AND_PORT = `${HOST}(?::[0-9]+)?`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const NAME = `(?:${DOMAIN_AND_PORT}/)?${REMOTE_NAME}`;
const REFERENCE_RE = new RegExp(`^(${NAME})(?::(${TAG}))?(?:@(${DIGEST}))?$`);
const IDENTIFIER_RE = /^[a-f0-9]{64}$/;
const TAG_RE = new RegExp(`^${TAG}$`);

function invalid(message: string): KilnError {
  return new KilnError(message, { kind: 'input' });
}

function splitDockerDomain(name: string): [domain: string, remainder: string] {
  const i = name.indexOf('/');
  let domain: string;
  let remainder: string;
  const first = i < 0 ? '' : name.slice(0, i);
  if (i < 0 || (!/[.:]/.test(first) && first !== 'localhost' && first.toLowerCase() === first)) {
    domain = DEFAULT_DOMAIN;
    remainder = name;
  } else {
    domain = first;
    remainder = name.slice(i + 1);
  }
  if (domain === LEGACY_DEFAULT_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !remainder.includes('/')) remainder = OFFICIAL_REPO_PREFIX + remainder;
  return [domain, remainder];
}

function parseDigestPart(d: string): Digest {
  const colon = d.indexOf(':');
  const alg = d.slice(0, colon);
  const hex = d.slice(colon + 1);
  if (alg !== 'sha256') throw invalid(`invalid reference format: unsupported digest algorithm ${JSON.stringify(alg)}`);
  if (hex.length !== 64) throw invalid('invalid reference format: invalid checksum digest length');
  if (!/^[a-f0-9]{64}$/.test(hex)) throw invalid('invalid reference format: invalid checksum digest format');
  return d as Digest;
}

/**
 * Parses a user-written image reference and normalizes it the way docker does: the default
 * domain `docker.io` (with `library/` for single-component names), `index.docker.io` →
 * `docker.io`, and tag `latest` when neither tag nor digest is given. Throws an 'input'
 * KilnError: "invalid reference format", "... repository name (x) must be lowercase", ...
 */
export function parseReference(s: string): Reference {
  if (IDENTIFIER_RE.test(s)) {
    throw invalid(`invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`);
  }
  if (s === '') throw invalid('invalid reference format: repository name must have at least one component');
  const [domain, remainder] = splitDockerDomain(s);
  const tagSep = remainder.indexOf(':');
  const remoteName = tagSep >= 0 ? remainder.slice(0, tagSep) : remainder;
  if (remoteName.toLowerCase() !== remoteName) {
    throw invalid(`invalid reference format: repository name (${remoteName}) must be lowercase`);
  }
  const full = `${domain}/${remainder}`;
  const m = REFERENCE_RE.exec(full);
  if (!m) {
    if (REFERENCE_RE.test(full.toLowerCase())) throw invalid('invalid reference format: repository name must be lowercase');
    throw invalid(`invalid reference format: ${JSON.stringify(s)}`);
  }
  const name = m[1]!;
  if (name.length > NAME_TOTAL_LENGTH_MAX) {
    throw invalid(`invalid reference format: repository name must not be more than ${NAME_TOTAL_LENGTH_MAX} characters`);
  }
  const ref: Reference = { domain, path: name.slice(domain.length + 1) };
  if (m[2] !== undefined) ref.tag = m[2];
  if (m[3] !== undefined) ref.digest = parseDigestPart(m[3]);
  if (ref.tag === undefined && ref.digest === undefined) ref.tag = 'latest';
  return ref;
}

/** `domain/path` — the repository, without tag or digest. */
export function repository(ref: Reference): string {
  return `${ref.domain}/${ref.path}`;
}

/** The fully qualified form: `docker.io/library/alpine:latest`, `host/a@sha256:...`. */
export function formatReference(ref: Reference): string {
  return `${repository(ref)}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}

/** The repository as docker shows it: `alpine`, `foo/bar`, `ghcr.io/x/y`. */
export function familiarRepository(ref: Reference): string {
  if (ref.domain !== DEFAULT_DOMAIN) return repository(ref);
  if (ref.path.startsWith(OFFICIAL_REPO_PREFIX)) {
    const rest = ref.path.slice(OFFICIAL_REPO_PREFIX.length);
    if (!rest.includes('/')) return rest;
  }
  return ref.path;
}

/** What docker shows: `alpine:latest`, `foo/bar@sha256:...`, `127.0.0.1:5000/a:1`. */
export function familiarName(ref: Reference): string {
  return `${familiarRepository(ref)}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}

/** True for a valid tag (`[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`). */
export function isValidTag(tag: string): boolean {
  return TAG_RE.test(tag);
}

/** The same repository pinned to `digest` (the tag is kept, as docker does for `name:tag@digest`). */
export function withDigest(ref: Reference, digest: Digest): Reference {
  return { ...ref, digest };
}

/** The same repository with `tag` and no digest. Throws on an invalid tag. */
export function withTag(ref: Reference, tag: string): Reference {
  if (!isValidTag(tag)) throw invalid(`invalid tag format: ${JSON.stringify(tag)}`);
  return { domain: ref.domain, path: ref.path, tag };
}
