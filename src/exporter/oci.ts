/**
 * The `oci` exporter: an OCI image layout, as a tar (default) or a directory.
 */
import * as v from 'valibot';
import { usageError } from '../util/errors.ts';
import { namedDescriptor, normalizeNames } from './index-entries.ts';
import { indexBytes, layoutRecords, packRecords } from './layout.ts';
import { exportBlobs } from './multi-platform.ts';
import { writeLayoutDir } from './layout-dir.ts';
import { isStdoutDest, writeExport } from './output.ts';
import { streamTar } from './tar-out.ts';
import type { ExportResult, ExportSource, Exporter } from './types.ts';

export interface OciExporterOptions {
  /** A file path for the tar, a directory path when `tar` is false, or '-' for stdout. */
  dest: string;
  /** Write a tar (default) or a layout directory. */
  tar?: boolean;
  /** OCI media types (default) or Docker ones. */
  ociMediaTypes?: boolean;
  /** Where dest '-' writes (default process.stdout); it is never ended. */
  stdout?: NodeJS.WritableStream;
}

const OptionsSchema = v.object({
  dest: v.pipe(v.string(), v.minLength(1, 'the oci exporter needs dest')),
  tar: v.optional(v.boolean()),
  ociMediaTypes: v.optional(v.boolean()),
  stdout: v.optional(v.any()),
});

/**
 * Validates the options and returns the exporter. The index holds one entry (the image's
 * manifest, or the index of its platforms or of its attestations),
 * annotated with the first name (`io.containerd.image.name` = the normalized name,
 * `org.opencontainers.image.ref.name` = its tag) when names are given. Each export is
 * independent; two exports of the same image give identical bytes.
 */
export function createOciExporter(options: OciExporterOptions): Exporter {
  const parsed = v.safeParse(OptionsSchema, options);
  if (!parsed.success) throw usageError(`oci exporter: ${parsed.issues[0].message}`);
  const { dest, tar = true, ociMediaTypes = true, stdout } = options;
  if (!tar && isStdoutDest(dest)) throw usageError('oci exporter: tar=false needs a directory as dest, not stdout');

  return {
    kind: 'oci',
    export: async function exportOci(src: ExportSource): Promise<ExportResult> {
      const names = normalizeNames(src.names);
      const { top, records: blobRecords, configDigest } = exportBlobs(src, names, { ociMediaTypes });
      const entry = names.length > 0 ? namedDescriptor(top, names[0]!) : top;
      if (tar) {
        const records = layoutRecords(blobRecords, indexBytes([entry]));
        await writeExport(src, 'oci', dest, stdout, (out) => streamTar(out, (pack) => packRecords(pack, records)));
      } else {
        await writeLayoutDir(dest, blobRecords, [entry]);
      }
      return {
        kind: 'oci',
        dest,
        manifestDigest: top.digest,
        configDigest,
        descriptor: entry,
      };
    },
  };
}
