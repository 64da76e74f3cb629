/**
 * The files of an OCI image layout (and of a docker-load archive, which is one plus
 * manifest.json), as containerd's archive exporter lays them out: `oci-layout`,
 * `index.json`, `blobs/sha256/<hex>`, entries sorted by name, fixed modes and times.
 */
import { digestHex, type Digest } from '../util/digest.ts';
import type { Descriptor } from '../oci/types.ts';
import { OCI_INDEX } from '../oci/media-types.ts';
import { encodeGoJson } from './canonical-json.ts';
import { INDEX_SHAPE } from './spec-shapes.ts';
import type { ImageBlobs } from './image-blobs.ts';
import { addBlob, addBytes, addDir, type BlobFile, type Pack } from './tar-out.ts';
import type { ExportImage } from './types.ts';

export const OCI_LAYOUT_BYTES = new TextEncoder().encode('{"imageLayoutVersion":"1.0.0"}');

/** One file of the layout: inline bytes or a blob streamed from the content store. */
export type LayoutRecord =
  | { name: string; mode: number; kind: 'dir' }
  | { name: string; mode: number; kind: 'bytes'; bytes: Uint8Array }
  | { name: string; mode: number; kind: 'blob'; blob: BlobFile };

/** `blobs/sha256/<hex>`, the path of a blob inside a layout. */
export function blobPath(digest: Digest): string {
  return `blobs/sha256/${digestHex(digest)}`;
}

/** The blob records of an image: its layers (streamed), config and manifest (inline). */
export function imageBlobRecords(image: ExportImage, blobs: ImageBlobs): LayoutRecord[] {
  const records: LayoutRecord[] = [
    { name: blobPath(blobs.manifest.descriptor.digest), mode: 0o444, kind: 'bytes', bytes: blobs.manifest.bytes },
    { name: blobPath(blobs.config.descriptor.digest), mode: 0o444, kind: 'bytes', bytes: blobs.config.bytes },
  ];
  for (const l of image.layers) {
    const blob = { path: l.blobPath, digest: l.descriptor.digest, size: l.descriptor.size };
    records.push({ name: blobPath(l.descriptor.digest), mode: 0o444, kind: 'blob', blob });
  }
  return records;
}

/** index.json bytes listing `manifests` (Go field order). */
export function indexBytes(manifests: Descriptor[]): Uint8Array {
  return new TextEncoder().encode(encodeGoJson({ schemaVersion: 2, mediaType: OCI_INDEX, manifests }, INDEX_SHAPE));
}

/** The complete record list: layout marker, index, blobs, extras; deduped and sorted by name. */
export function layoutRecords(blobRecords: LayoutRecord[], index: Uint8Array, extra: LayoutRecord[] = []): LayoutRecord[] {
  const all: LayoutRecord[] = [
    { name: 'oci-layout', mode: 0o444, kind: 'bytes', bytes: OCI_LAYOUT_BYTES },
    { name: 'index.json', mode: 0o644, kind: 'bytes', bytes: index },
    { name: 'blobs/', mode: 0o755, kind: 'dir' },
    { name: 'blobs/sha256/', mode: 0o755, kind: 'dir' },
    ...blobRecords,
    ...extra,
  ];
  const byName = new Map<string, LayoutRecord>();
  for (const r of all) if (!byName.has(r.name)) byName.set(r.name, r);
  return [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Writes `records` into `pack` in order. */
export async function packRecords(pack: Pack, records: LayoutRecord[]): Promise<void> {
  for (const r of records) {
    if (r.kind === 'dir') await addDir(pack, r.name, r.mode);
    else if (r.kind === 'bytes') await addBytes(pack, r.name, r.bytes, r.mode);
    else await addBlob(pack, r.name, r.blob, r.mode);
  }
}
