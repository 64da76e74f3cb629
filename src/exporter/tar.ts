/**
 * The `tar` exporter: the image's root filesystem as one tar file (no image metadata).
 */
import { provenanceFileBytes } from './local.ts';
import * as v from 'valibot';
import { usageError } from '../util/errors.ts';
import { writeOutput } from './output.ts';
import type { ExportResult, ExportSource, Exporter } from './types.ts';

/** Writes a deterministic tar of `dir` into `out` (the snapshot layer's packDirectory). */
export type PackDirectory = (dir: string, out: NodeJS.WritableStream, opts: { mode: 'rootfs' | 'layer'; extra?: { name: string; bytes: Uint8Array }[] }) => Promise<void>;

export interface TarExporterOptions {
  /** The tar file to write, or '-' for stdout. */
  dest: string;
  /** Where dest '-' writes (default process.stdout); it is never ended. */
  stdout?: NodeJS.WritableStream;
  /** The tar writer; default: packDirectory from src/snapshot/pack.ts, loaded on first use. */
  packDirectory?: PackDirectory;
}

const OptionsSchema = v.object({
  dest: v.pipe(v.string(), v.minLength(1, 'the tar exporter needs dest')),
  stdout: v.optional(v.any()),
  packDirectory: v.optional(v.function()),
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
      const pack = options.packDirectory ?? (await import('../snapshot/pack.ts')).packDirectory;
      const view = await src.openRootfs();
      try {
        const provenance = provenanceFileBytes(src);
        await writeOutput(dest, stdout, (out) => pack(view.dir, out, { mode: 'rootfs', extra: provenance ? [{ name: 'provenance.json', bytes: provenance }] : undefined }));
      } finally {
        await view.release();
      }
      return { kind: 'tar', dest };
    },
  };
}
