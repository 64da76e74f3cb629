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

/** Sets K=V in a config Env list, replacing an existing K in place. */
export function addEnv(env: string[], key: string, value: string): string[] {
  const i = env.findIndex((e) => e.split('=', 1)[0] === key);
  const out = [...env];
  if (i >= 0) out[i] = `${key}=${value}`;
  else out.push(`${key}=${value}`);
  return out;
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
