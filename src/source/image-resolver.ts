import { parseReference, repository, type Reference } from '../oci/reference.ts';
import type { Platform } from '../oci/types.ts';
import type { RegistryClient, ResolvedImage } from '../registry/index.ts';
import { formatPlatform } from '../oci/platform.ts';

/**
 * Resolves image references to manifests and configs, once per reference and platform
 * per build: the frontend (resolveImageConfig) and the image source share the answer.
 */
export interface ImageResolver {
  resolve(ref: string, platform: Platform): Promise<ResolvedImage>;
  readonly registry: RegistryClient;
}

export function createImageResolver(registry: RegistryClient): ImageResolver {
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
        p = registry.resolve(parsed, platform);
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
