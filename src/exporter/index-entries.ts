/**
 * The manifest descriptors that go into index.json, named as containerd's archive
 * exporter names them.
 */
import type { Descriptor } from '../oci/types.ts';
import { ANNOTATION_REF_NAME } from '../oci/media-types.ts';
import { normalizeImageName, ociRefName } from './image-name.ts';

/** containerd's annotation holding the full image name. */
export const IMAGE_NAME_ANNOTATION = 'io.containerd.image.name';

/** `manifest` annotated with `io.containerd.image.name` and the OCI ref name for `name` (normalized). */
export function namedDescriptor(manifest: Descriptor, name: string): Descriptor {
  return {
    ...manifest,
    annotations: { ...(manifest.annotations ?? {}), [IMAGE_NAME_ANNOTATION]: name, [ANNOTATION_REF_NAME]: ociRefName(name) },
  };
}

/** Normalized names (`docker.io/library/foo:latest`), in order; throws on an invalid one. */
export function normalizeNames(names: string[]): string[] {
  return names.map(normalizeImageName);
}

/**
 * One index entry per name (the docker variant, like containerd's WithManifest(desc,
 * names...)), or a single unnamed entry when there are no names.
 */
export function indexEntries(manifest: Descriptor, names: string[]): Descriptor[] {
  return names.length === 0 ? [manifest] : names.map((n) => namedDescriptor(manifest, n));
}
