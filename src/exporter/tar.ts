/**
 * The `tar` exporter: the image's root filesystem as one tar file (no image metadata).
 */
import { provenanceFileBytes } from './local.ts';
import * as v from 'valibot';
import { usageError } from '../util/errors.ts';
import { writeExport } from './output.ts';
import type { ExportResult, ExportSource, Exporter, RootfsView } from './types.ts';
import { platformDirName } from './multi-platform.ts';

/** Writes a deterministic tar of `dir` into `out` (the snapshot layer's packDirectory). */
export type PackDirectory = (dir: string, out: NodeJS.WritableStream, opts: { mode: 'rootfs' | 'layer'; extra?: { name: string; bytes: Uint8Array }[] }) => Promise<void>;

export interface TarExporterOptions {
  /** The tar file to write, or '-' for stdout. */
  dest: string;
  /** Where dest '-' writes (default process.stdout); it is never ended. */
  stdout?: NodeJS.WritableStream;
  /** The tar writer; default: packDirectory from src/snapshot/pack.ts, loaded on first use. */
  packDirectory?: PackDirectory;
  /** Multi-platform builds: a directory per platform (`linux_amd64/`, default), or every platform's files in one tree. */
  platformSplit?: boolean;
}

const OptionsSchema = v.object({
  dest: v.pipe(v.string(), v.minLength(1, 'the tar exporter needs dest')),
  stdout: v.optional(v.any()),
  packDirectory: v.optional(v.function()),
  platformSplit: v.optional(v.boolean()),
});

/**
 * Validates the options and returns the exporter. The file appears at `dest` complete or
 * not at all (temp name + rename); the rootfs view is always released.
 */
export function createTarExporter(options: TarExporterOptions): Exporter {
  const parsed = v.safeParse(OptionsSchema, options);
  if (!parsed.success) throw usageError(`tar exporter: ${parsed.issues[0].message}`);
  const { dest, stdout } = options;

  return {
    kind: 'tar',
    export: async function exportTar(src: ExportSource): Promise<ExportResult> {
      if (src.platforms) {
        await exportPlatforms(src, src.platforms, options.platformSplit ?? true);
        return { kind: 'tar', dest };
      }
      const pack = options.packDirectory ?? (await import('../snapshot/pack.ts')).packDirectory;
      const view = await src.openRootfs();
      try {
        const provenance = provenanceFileBytes(src);
        await writeExport(src, 'tar', dest, stdout, (out) => pack(view.dir, out, { mode: 'rootfs', extra: provenance ? [{ name: 'provenance.json', bytes: provenance }] : undefined }));
      } finally {
        await view.release();
      }
      return { kind: 'tar', dest };
    },
  };

  /** Every platform's tree in one tar: under `os_arch/` each (with its provenance.json), or all at the top when not split. */
  async function exportPlatforms(src: ExportSource, platforms: NonNullable<ExportSource['platforms']>, split: boolean): Promise<void> {
    const { packTrees } = await import('../snapshot/pack.ts');
    const views: RootfsView[] = [];
    try {
      for (const p of platforms) views.push(await p.openRootfs());
      const prefixes = platforms.map((p) => (split ? platformDirName(p.platform) : ''));
      const extra = platforms.flatMap((p, i) => {
        const bytes = provenanceFileBytes({ image: p.image, names: src.names, openRootfs: p.openRootfs });
        return bytes ? [{ name: `${prefixes[i] ? `${prefixes[i]}/` : ''}provenance.json`, bytes }] : [];
      });
      await writeExport(src, 'tar', dest, stdout, (out) => packTrees(views.map((v, i) => ({ dir: v.dir, prefix: prefixes[i]! })), out, { mode: 'rootfs', extra }));
    } finally {
      for (const v of views) await v.release();
    }
  }
}
