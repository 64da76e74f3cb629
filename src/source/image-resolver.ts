import { parseReference, formatReference } from '../oci/reference.ts';
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
  return {
    registry,
    resolve(ref, platform) {
      const parsed = parseReference(ref);
      const key = `${formatReference(parsed)} ${formatPlatform(platform)}`;
      let p = memo.get(key);
      if (!p) {
        p = registry.resolve(parsed, platform);
        memo.set(key, p);
        p.catch(() => memo.delete(key));
      }
      return p;
    },
  };
}
