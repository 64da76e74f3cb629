/**
 * Image names as the exporters write them: normalized (`foo` → `docker.io/library/foo:latest`,
 * containerd's image name), familiar (`foo:latest`, docker's manifest.json RepoTags) and
 * the OCI `ref.name` (the part after the repository, as containerd derives it).
 */
import { familiarName, formatReference, parseReference } from '../oci/reference.ts';

/** The full name, `:latest` added when neither tag nor digest is given. Throws an 'input' KilnError. */
export function normalizeImageName(name: string): string {
  return formatReference(parseReference(name));
}

/** The short form docker prints: `docker.io/library/foo:latest` → `foo:latest`. */
export function familiarImageName(name: string): string {
  return familiarName(parseReference(name));
}

/**
 * The OCI `org.opencontainers.image.ref.name` of a normalized name, as containerd derives
 * it: everything after the repository (`latest`, `v1@sha256:…`, `@sha256:…`).
 */
export function ociRefName(normalized: string): string {
  const slash = normalized.indexOf('/');
  if (slash < 0) return normalized;
  const m = /[:@]/.exec(normalized.slice(slash));
  if (!m) return normalized;
  const object = normalized.slice(slash + m.index);
  return object.startsWith(':') ? object.slice(1) : object;
}
