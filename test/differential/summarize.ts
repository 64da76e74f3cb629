/**
 * What a differential fixture compares: the image config fields that matter and a listing
 * of the root file system, as plain text/JSON that both BuildKit's and kiln's outputs reduce to.
 */
import { createReadStream } from 'node:fs';
import { createHash } from 'node:crypto';
import { extract } from 'tar-stream';

const CONFIG_KEYS = ['User', 'ExposedPorts', 'Env', 'Entrypoint', 'Cmd', 'Volumes', 'WorkingDir', 'Labels', 'StopSignal', 'ArgsEscaped', 'Healthcheck', 'OnBuild', 'Shell'];

const empty = (v: unknown) => v === null || v === undefined || v === '' || v === false || (Array.isArray(v) && v.length === 0) || (typeof v === 'object' && v !== null && Object.keys(v).length === 0);

/** The comparable part of an image config (timestamps and ids dropped, empty fields dropped). */
export function summarizeConfig(cfg: Record<string, unknown>): Record<string, unknown> {
  const c = (cfg.config ?? {}) as Record<string, unknown>;
  const config: Record<string, unknown> = {};
  for (const k of CONFIG_KEYS) if (!empty(c[k])) config[k] = c[k];
  const history = ((cfg.history ?? []) as { created_by?: string; empty_layer?: boolean; comment?: string }[]).map((h) => ({
    created_by: h.created_by,
    ...(h.empty_layer ? { empty_layer: true } : {}),
    ...(h.comment ? { comment: h.comment } : {}),
  }));
  const rootfs = (cfg.rootfs ?? {}) as { diff_ids?: string[] };
  return { os: cfg.os, architecture: cfg.architecture, config, history, layers: rootfs.diff_ids?.length ?? 0 };
}

/** One line per path of a root file system tar: path, type, mode, owner, size, content or link. */
export async function summarizeRootfs(tarPath: string): Promise<string> {
  const lines: string[] = [];
  const ex = extract();
  const done = (async () => {
    for await (const entry of ex) {
      const h = entry.header;
      const name = h.name.replace(/^\.?\/+/, '').replace(/\/+$/, '');
      const hash = createHash('sha256');
      for await (const chunk of entry) hash.update(chunk as Buffer);
      if (!name) continue;
      const mode = ((h.mode ?? 0) & 0o7777).toString(8).padStart(4, '0');
      const what = h.type === 'file' ? `${h.size} ${hash.digest('hex').slice(0, 16)}` : h.type === 'symlink' || h.type === 'link' ? `-> ${h.linkname}` : '';
      lines.push(`${name} ${h.type} ${mode} ${h.uid}:${h.gid} ${what}`.trimEnd());
    }
  })();
  createReadStream(tarPath).pipe(ex as unknown as NodeJS.WritableStream);
  await done;
  return `${lines.sort().join('\n')}\n`;
}
