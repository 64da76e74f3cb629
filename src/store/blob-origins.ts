import type { Meta } from './meta.ts';

/**
 * Where a blob came from (`domain/repository`, a pull or a cache import): a push to the same
 * registry mounts it from there instead of uploading it.
 */
export function rememberBlobOrigin(meta: Meta, digest: string, repository: string): void {
  meta.set(`blob-origin:${digest}`, repository);
}

/** The repository of `domain` a push may mount `digest` from, if the blob came from there. */
export function mountSourceFor(meta: Meta, digest: string, domain: string): string | undefined {
  const origin = meta.get(`blob-origin:${digest}`);
  return origin?.startsWith(`${domain}/`) ? origin.slice(domain.length + 1) : undefined;
}
