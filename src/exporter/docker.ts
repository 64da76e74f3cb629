/**
 * The `docker` exporter: a tar that `docker load` reads (manifest.json with Config,
 * RepoTags, Layers) and that is also an OCI image layout, as BuildKit's docker exporter
 * (containerd's archive exporter) writes it. Docker media types by default.
 */
import * as v from 'valibot';
import { usageError } from '../util/errors.ts';
import { encodeGoJson, type Shape } from './canonical-json.ts';
import { buildImageBlobs, type ImageBlobs } from './image-blobs.ts';
import { familiarImageName } from './image-name.ts';
import { indexEntries, normalizeNames } from './index-entries.ts';
import { blobPath, imageBlobRecords, indexBytes, layoutRecords, packRecords, type LayoutRecord } from './layout.ts';
import { writeExport } from './output.ts';
import { exportBlobs } from './multi-platform.ts';
import { streamTar } from './tar-out.ts';
import type { ExportResult, ExportSource, Exporter } from './types.ts';

export interface DockerExporterOptions {
  /** The tar file to write, or '-' for stdout. */
  dest: string;
  /** Docker media types (default false) or OCI ones. */
  ociMediaTypes?: boolean;
  /** Where dest '-' writes (default process.stdout); it is never ended. */
  stdout?: NodeJS.WritableStream;
}

const OptionsSchema = v.object({
  dest: v.pipe(v.string(), v.minLength(1, 'the docker exporter needs dest')),
  ociMediaTypes: v.optional(v.boolean()),
  stdout: v.optional(v.any()),
});

const LIST: Shape = { kind: 'list' };
const MANIFEST_JSON_SHAPE: Shape = {
  kind: 'list',
  item: { kind: 'struct', fields: [{ key: 'Config' }, { key: 'RepoTags', shape: LIST }, { key: 'Layers', shape: LIST }] },
};

/** Validates the options and returns the exporter; exports are deterministic. */
export function createDockerExporter(options: DockerExporterOptions): Exporter {
  const parsed = v.safeParse(OptionsSchema, options);
  if (!parsed.success) throw usageError(`docker exporter: ${parsed.issues[0].message}`);
  const { dest, ociMediaTypes = false, stdout } = options;

  return {
    kind: 'docker',
    export: async function exportDocker(src: ExportSource): Promise<ExportResult> {
      const names = normalizeNames(src.names);
      if (src.platforms) {
        // Every platform's image under one index (manifest list); manifest.json lists each, the names on the first.
        const { top, records: blobRecords, images } = exportBlobs(src, names, { ociMediaTypes });
        const entries = indexEntries(top, names);
        const manifestJson: LayoutRecord = { name: 'manifest.json', mode: 0o644, kind: 'bytes', bytes: dockerManifestJson(images.map((i) => i.blobs), names) };
        const records = layoutRecords(blobRecords, indexBytes(entries), [manifestJson]);
        await writeExport(src, 'docker', dest, stdout, (out) => streamTar(out, (pack) => packRecords(pack, records)));
        return { kind: 'docker', dest, manifestDigest: top.digest, descriptor: entries[0] };
      }
      const blobs = buildImageBlobs(src.image, { ociMediaTypes });
      const entries = indexEntries(blobs.manifest.descriptor, names);
      const manifestJson: LayoutRecord = { name: 'manifest.json', mode: 0o644, kind: 'bytes', bytes: dockerManifestJson([blobs], names) };
      const records = layoutRecords(imageBlobRecords(src.image, blobs), indexBytes(entries), [manifestJson]);
      await writeExport(src, 'docker', dest, stdout, (out) => streamTar(out, (pack) => packRecords(pack, records)));
      return {
        kind: 'docker',
        dest,
        manifestDigest: blobs.manifest.descriptor.digest,
        configDigest: blobs.config.descriptor.digest,
        descriptor: entries[0],
      };
    },
  };
}

/** manifest.json: each image, its config and layer paths; the names (as docker shows them) on the first. */
export function dockerManifestJson(images: ImageBlobs[], normalizedNames: string[]): Uint8Array {
  const items = images.map((blobs, i) => ({
    Config: blobPath(blobs.config.descriptor.digest),
    RepoTags: i === 0 && normalizedNames.length > 0 ? normalizedNames.map(familiarImageName) : null,
    Layers: blobs.layers.map((l) => blobPath(l.digest)),
  }));
  return new TextEncoder().encode(encodeGoJson(items, MANIFEST_JSON_SHAPE));
}
