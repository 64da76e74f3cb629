import type { ImageConfigFile } from '../../api.ts';
import type { Platform } from '../../api.ts';
import { DEFAULT_PATH } from '../../api.ts';
/** The history comment BuildKit's Dockerfile frontend writes. */
export const HISTORY_COMMENT = 'buildkit.dockerfile.v0';

/** The config of `FROM scratch` (BuildKit's emptyImage). */
export function emptyImage(p: Platform): ImageConfigFile {
  const img: ImageConfigFile = {
    architecture: p.architecture,
    os: p.os,
    config: { Env: [`PATH=${DEFAULT_PATH}`], WorkingDir: '/' },
    rootfs: { type: 'layers', diff_ids: [] },
  };
  if (p.variant) img.variant = p.variant;
  return img;
}

/** A deep copy (configs are mutated while dispatching a stage). */
export function cloneImage(img: ImageConfigFile): ImageConfigFile {
  return structuredClone(img);
}

export function commitToHistory(img: ImageConfigFile, createdBy: string, withLayer: boolean, viaLlb: boolean): void {
  (img.history ??= []).push({
    created_by: viaLlb ? `${createdBy} # buildkit` : createdBy,
    comment: HISTORY_COMMENT,
    ...(withLayer ? {} : { empty_layer: true }),
  });
}

/**
 * Env lists this module made (so no one else holds them), with the index of each key: a
 * stage's config Env is then updated in place, in O(1) per ENV instead of a copy of the list.
 */
const ownedEnv = new WeakMap<string[], Map<string, number>>();

/** Sets K=V in the image config's Env list, replacing an existing K in its place. */
export function setConfigEnv(img: ImageConfigFile, key: string, value: string): void {
  let env = img.config.Env ?? [];
  let index = ownedEnv.get(env);
  if (!index) {
    env = [...env];
    index = new Map(env.map((e, i) => [e.split('=', 1)[0]!, i] as const).reverse());
    ownedEnv.set(env, index);
    img.config.Env = env;
  }
  const i = index.get(key);
  if (i !== undefined) env[i] = `${key}=${value}`;
  else {
    index.set(key, env.length);
    env.push(`${key}=${value}`);
  }
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

export function parsePlatformSpec(s: string, fallback: Platform): Platform {
  const parts = s.toLowerCase().split('/');
  const [os, arch, variant] = parts;
  if (!os || parts.length > 3) throw new Error(`invalid platform "${s}": want os[/arch[/variant]]`);
  const architecture = arch ?? fallback.architecture;
  const p: Platform = { os, architecture: architecture === 'x86_64' ? 'amd64' : architecture === 'aarch64' ? 'arm64' : architecture };
  if (variant) p.variant = variant;
  return p;
}

/** Go's `fmt.Sprintf("%q", []string)`: `["a" "b c"]`. */
export function goQuoteList(list: string[]): string {
  return `[${list.map((s) => JSON.stringify(s)).join(' ')}]`;
}
