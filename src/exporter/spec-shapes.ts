/**
 * The field order and `omitempty` flags of the image-spec Go structs (image-spec v1.1,
 * plus the Docker config extensions BuildKit writes), for `encodeGoJson`.
 */
import type { Shape } from './canonical-json.ts';

const MAP: Shape = { kind: 'map' };
const LIST: Shape = { kind: 'list' };

export const PLATFORM_SHAPE: Shape = {
  kind: 'struct',
  fields: [
    { key: 'architecture' },
    { key: 'os' },
    { key: 'os.version', omitEmpty: true },
    { key: 'os.features', omitEmpty: true, shape: LIST },
    { key: 'variant', omitEmpty: true },
  ],
};

export const DESCRIPTOR_SHAPE: Shape = {
  kind: 'struct',
  fields: [
    { key: 'mediaType' },
    { key: 'digest' },
    { key: 'size' },
    { key: 'urls', omitEmpty: true, shape: LIST },
    { key: 'annotations', omitEmpty: true, shape: MAP },
    { key: 'data', omitEmpty: true },
    { key: 'platform', omitEmpty: true, shape: PLATFORM_SHAPE },
    { key: 'artifactType', omitEmpty: true },
  ],
};

const DESCRIPTORS: Shape = { kind: 'list', item: DESCRIPTOR_SHAPE };

export const MANIFEST_SHAPE: Shape = {
  kind: 'struct',
  fields: [
    { key: 'schemaVersion' },
    { key: 'mediaType', omitEmpty: true },
    { key: 'artifactType', omitEmpty: true },
    { key: 'config', shape: DESCRIPTOR_SHAPE },
    { key: 'layers', shape: DESCRIPTORS },
    { key: 'subject', omitEmpty: true, shape: DESCRIPTOR_SHAPE },
    { key: 'annotations', omitEmpty: true, shape: MAP },
  ],
};

export const INDEX_SHAPE: Shape = {
  kind: 'struct',
  fields: [
    { key: 'schemaVersion' },
    { key: 'mediaType', omitEmpty: true },
    { key: 'artifactType', omitEmpty: true },
    { key: 'manifests', shape: DESCRIPTORS },
    { key: 'subject', omitEmpty: true, shape: DESCRIPTOR_SHAPE },
    { key: 'annotations', omitEmpty: true, shape: MAP },
  ],
};

const HEALTHCHECK_SHAPE: Shape = {
  kind: 'struct',
  fields: ['Test', 'Interval', 'Timeout', 'StartPeriod', 'StartInterval', 'Retries'].map((key) => ({ key, omitEmpty: true })),
};

/** ocispec.ImageConfig followed by BuildKit's Docker extensions (Healthcheck, OnBuild, Shell). */
const RUN_CONFIG_SHAPE: Shape = {
  kind: 'struct',
  fields: [
    { key: 'User', omitEmpty: true },
    { key: 'ExposedPorts', omitEmpty: true, shape: MAP },
    { key: 'Env', omitEmpty: true, shape: LIST },
    { key: 'Entrypoint', omitEmpty: true, shape: LIST },
    { key: 'Cmd', omitEmpty: true, shape: LIST },
    { key: 'Volumes', omitEmpty: true, shape: MAP },
    { key: 'WorkingDir', omitEmpty: true },
    { key: 'Labels', omitEmpty: true, shape: MAP },
    { key: 'StopSignal', omitEmpty: true },
    { key: 'ArgsEscaped', omitEmpty: true },
    { key: 'Healthcheck', omitEmpty: true, shape: HEALTHCHECK_SHAPE },
    { key: 'OnBuild', omitEmpty: true, shape: LIST },
    { key: 'Shell', omitEmpty: true, shape: LIST },
  ],
};

const HISTORY_SHAPE: Shape = {
  kind: 'struct',
  fields: ['created', 'created_by', 'author', 'comment', 'empty_layer'].map((key) => ({ key, omitEmpty: true })),
};

/**
 * The image config. BuildKit patches the frontend's config as a Go
 * map[string]json.RawMessage, so its top-level keys come out sorted; nested values keep
 * their struct order.
 */
export const IMAGE_CONFIG_SHAPE: Shape = {
  kind: 'struct',
  sorted: true,
  fields: [
    { key: 'created', omitEmpty: true },
    { key: 'author', omitEmpty: true },
    { key: 'os.version', omitEmpty: true },
    { key: 'os.features', omitEmpty: true, shape: LIST },
    { key: 'variant', omitEmpty: true },
    { key: 'config', shape: RUN_CONFIG_SHAPE },
    { key: 'rootfs', shape: { kind: 'struct', fields: [{ key: 'type' }, { key: 'diff_ids', shape: LIST }] } },
    { key: 'history', omitEmpty: true, shape: { kind: 'list', item: HISTORY_SHAPE } },
  ],
};
