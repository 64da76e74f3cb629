/** The exporters: factories that validate their options and return an `Exporter`. */
export type { ExportImage, ExportLayer, ExportResult, ExportSource, Exporter, RootfsView } from './types.ts';
export { buildImageBlobs, type ImageBlobs, type ImageBlobsOptions, type EncodedBlob } from './image-blobs.ts';
export { createOciExporter, type OciExporterOptions } from './oci.ts';
export { createDockerExporter, type DockerExporterOptions } from './docker.ts';
export { createTarExporter, type TarExporterOptions, type PackDirectory } from './tar.ts';
export { createLocalExporter, type LocalExporterOptions } from './local.ts';
