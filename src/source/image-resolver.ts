import { parseReference, repository, type Reference } from '../oci/reference.ts';
import type { Platform } from '../oci/types.ts';
import type { RegistryClient, ResolvedImage } from '../registry/index.ts';
import { formatPlatform } from '../oci/platform.ts';
import { KilnError } from '../util/errors.ts';

/**
 * Resolves image references to manifests and configs, once per reference and platform
 * per build: the frontend (resolveImageConfig) and the image source share the answer.
 */
export interface ImageResolver {
  resolve(ref: string, platform: Platform): Promise<ResolvedImage>;
  readonly registry: RegistryClient;
}

export interface ImageResolverOptions {
  /** The local image store, asked first (see image-local.ts); undefined when it has not got the image. */
  local?: (ref: string, platform: Platform) => Promise<ResolvedImage | undefined>;
  /** `--pull`: tags always come from the registry (digests are the same content anywhere). */
  pull?: boolean;
}

export function createImageResolver(registry: RegistryClient, opts: ImageResolverOptions = {}): ImageResolver {
  const memo = new Map<string, Promise<ResolvedImage>>();
  // A digest names the content whatever the tag: `name:tag@d` and `name@d` are one entry.
  const keyOf = (r: Reference, platform: string) => `${repository(r)}${r.digest ? `@${r.digest}` : `:${r.tag}`} ${platform}`;
  return {
    registry,
    resolve(ref, platform) {
      const parsed = parseReference(ref);
      const plat = formatPlatform(platform);
      const key = keyOf(parsed, plat);
      let p = memo.get(key);
      if (!p) {
        const local = opts.local && (!opts.pull || parsed.digest) ? opts.local(ref, platform) : Promise.resolve(undefined);
        // Failures name the image: a build may read several, and a registry error alone does not say which.
        p = local
          .then((img) => img ?? registry.resolve(parsed, platform))
          .catch((err: unknown) => {
            if (!(err instanceof KilnError) || err.message.includes(ref)) throw err;
            throw new KilnError(`failed to resolve image ${ref}: ${err.message}`, { kind: err.kind, hint: err.hint, details: err.details, cause: err });
          });
        memo.set(key, p);
        p.catch(() => memo.delete(key));
        // The frontend resolves `name:tag` and pins `name:tag@digest` into LLB: the solver's
        // lookup of the pinned name then needs no second trip to the registry.
        p.then((img) => {
          for (const d of [img.manifestDigest, img.indexDigest]) {
            if (d && !memo.has(keyOf({ ...parsed, digest: d }, plat))) memo.set(keyOf({ ...parsed, digest: d }, plat), p!);
          }
        }, () => {});
      }
      return p;
    },
  };
}
