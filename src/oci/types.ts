/**
 * OCI image-spec and Docker image v2 types, with valibot schemas and parse functions.
 *
 * The schemas are loose: unknown fields are kept (a config rewritten by kiln keeps what
 * other tools put there), and Docker's `null` for an absent value (`"Cmd": null`) reads as
 * absent. Digests must be sha256.
 */
import * as v from 'valibot';
import { isDigest, type Digest } from '../util/digest.ts';
import { KilnError } from '../util/errors.ts';
import type { Platform } from './platform.ts';

export type { Platform } from './platform.ts';

/** A field that may be missing or JSON null; null becomes undefined. */
const opt = <T extends v.GenericSchema>(s: T) =>
  v.pipe(
    v.nullish(s),
    v.transform((x) => x ?? undefined),
  );

/** A sha256 digest string (valibot). */
export const DigestSchema = v.custom<Digest>((x) => typeof x === 'string' && isDigest(x), 'not a sha256 digest');
const Size = v.pipe(v.number(), v.integer(), v.minValue(0));
const StringMap = v.record(v.string(), v.string());
const EmptyObjectMap = v.record(v.string(), v.looseObject({}));

export const PlatformSchema = v.looseObject({
  os: v.string(),
  architecture: v.string(),
  variant: opt(v.string()),
  'os.version': opt(v.string()),
  'os.features': opt(v.array(v.string())),
});

export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  platform?: Platform;
  artifactType?: string;
  /** Embedded content, base64. */
  data?: string;
}

export const DescriptorSchema = v.looseObject({
  mediaType: v.string(),
  digest: DigestSchema,
  size: Size,
  urls: opt(v.array(v.string())),
  annotations: opt(StringMap),
  platform: opt(PlatformSchema),
  artifactType: opt(v.string()),
  data: opt(v.string()),
});

/** An OCI image manifest or a Docker schema 2 manifest (same shape). */
export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export const ImageManifestSchema = v.looseObject({
  schemaVersion: v.literal(2),
  mediaType: opt(v.string()),
  artifactType: opt(v.string()),
  config: DescriptorSchema,
  layers: v.nullish(v.array(DescriptorSchema), () => []),
  subject: opt(DescriptorSchema),
  annotations: opt(StringMap),
});

/** An OCI image index or a Docker manifest list (same shape). */
export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  manifests: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}
/** Docker's name for an index. */
export type ManifestList = ImageIndex;

export const ImageIndexSchema = v.looseObject({
  schemaVersion: v.literal(2),
  mediaType: opt(v.string()),
  artifactType: opt(v.string()),
  manifests: v.nullish(v.array(DescriptorSchema), () => []),
  subject: opt(DescriptorSchema),
  annotations: opt(StringMap),
});

/** Durations are nanoseconds, as Docker stores them. */
export interface Healthcheck {
  Test?: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}

export interface History {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

/** The runtime part of an image config (`config` in the JSON). */
export interface ContainerConfig {
  User?: string;
  ExposedPorts?: Record<string, object>;
  Env?: string[];
  Entrypoint?: string[];
  Cmd?: string[];
  Volumes?: Record<string, object>;
  WorkingDir?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
  Shell?: string[];
  Healthcheck?: Healthcheck;
  OnBuild?: string[];
  ArgsEscaped?: boolean;
}

export interface ImageConfig {
  created?: string;
  author?: string;
  architecture: string;
  os: string;
  variant?: string;
  'os.version'?: string;
  'os.features'?: string[];
  config: ContainerConfig;
  rootfs: { type: 'layers'; diff_ids: Digest[] };
  history?: History[];
}

const StringList = opt(v.array(v.string()));

export const HealthcheckSchema = v.looseObject({
  Test: StringList,
  Interval: opt(v.number()),
  Timeout: opt(v.number()),
  StartPeriod: opt(v.number()),
  StartInterval: opt(v.number()),
  Retries: opt(v.number()),
});

export const HistorySchema = v.looseObject({
  created: opt(v.string()),
  created_by: opt(v.string()),
  author: opt(v.string()),
  comment: opt(v.string()),
  empty_layer: opt(v.boolean()),
});

export const ContainerConfigSchema = v.looseObject({
  User: opt(v.string()),
  ExposedPorts: opt(EmptyObjectMap),
  Env: StringList,
  Entrypoint: StringList,
  Cmd: StringList,
  Volumes: opt(EmptyObjectMap),
  WorkingDir: opt(v.string()),
  Labels: opt(StringMap),
  StopSignal: opt(v.string()),
  Shell: StringList,
  Healthcheck: opt(HealthcheckSchema),
  OnBuild: StringList,
  ArgsEscaped: opt(v.boolean()),
});

export const ImageConfigSchema = v.looseObject({
  created: opt(v.string()),
  author: opt(v.string()),
  architecture: v.string(),
  os: v.string(),
  variant: opt(v.string()),
  'os.version': opt(v.string()),
  'os.features': opt(v.array(v.string())),
  config: v.nullish(ContainerConfigSchema, () => ({})),
  rootfs: v.looseObject({
    type: v.literal('layers'),
    diff_ids: v.nullish(v.array(DigestSchema), () => []),
  }),
  history: opt(v.array(HistorySchema)),
});

function decode(input: Uint8Array | string | unknown, what: string): unknown {
  if (typeof input === 'string' || input instanceof Uint8Array) {
    const text = typeof input === 'string' ? input : new TextDecoder().decode(input);
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new KilnError(`invalid ${what}: not JSON: ${(err as Error).message}`, { kind: 'input', cause: err });
    }
  }
  return input;
}

function parseWith<T>(schema: v.GenericSchema, input: unknown, what: string): T {
  const r = v.safeParse(schema, decode(input, what));
  if (r.success) return r.output as T;
  const first = r.issues[0];
  const path = v.getDotPath(first);
  throw new KilnError(`invalid ${what}: ${path ? `${path}: ` : ''}${first.message}`, { kind: 'input' });
}

/** Parses JSON bytes, text, or an already-decoded value. Throws an 'input' KilnError naming the bad field. */
export function parseImageManifest(input: Uint8Array | string | unknown, what = 'image manifest'): ImageManifest {
  return parseWith<ImageManifest>(ImageManifestSchema, input, what);
}

export function parseImageIndex(input: Uint8Array | string | unknown, what = 'image index'): ImageIndex {
  return parseWith<ImageIndex>(ImageIndexSchema, input, what);
}

export function parseImageConfig(input: Uint8Array | string | unknown, what = 'image config'): ImageConfig {
  return parseWith<ImageConfig>(ImageConfigSchema, input, what);
}

export function parseDescriptor(input: Uint8Array | string | unknown, what = 'descriptor'): Descriptor {
  return parseWith<Descriptor>(DescriptorSchema, input, what);
}

/** The platform an image config declares. */
export function configPlatform(c: ImageConfig): Platform {
  const p: Platform = { os: c.os, architecture: c.architecture };
  if (c.variant) p.variant = c.variant;
  if (c['os.version']) p['os.version'] = c['os.version'];
  return p;
}
