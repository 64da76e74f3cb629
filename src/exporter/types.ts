/**
 * The seam between the solver and the exporters: what a finished image looks like when it
 * is handed over, and what every exporter returns.
 */
import type { Digest } from '../util/digest.ts';
import type { Descriptor, ImageConfig } from '../oci/types.ts';

/** One layer: its compressed blob (already in the content store) and its uncompressed digest. */
export interface ExportLayer {
  /** mediaType, digest and size of the compressed blob at `blobPath`. */
  descriptor: Descriptor;
  /** sha256 of the uncompressed tar (what `rootfs.diff_ids` lists). */
  diffId: Digest;
  /** A file holding exactly the blob bytes; exporters stream it and verify digest and size. */
  blobPath: string;
  /**
   * Set when the layer is kept as a snapshot and its (uncompressed) blob is not written:
   * only the local image store takes such layers (store/built-layers.ts).
   */
  kept?: { snapshot: string };
}

export interface ExportImage {
  layers: ExportLayer[];
  /** Complete: `rootfs.diff_ids` and `history` already filled in. */
  config: ImageConfig;
  /** Manifest annotations. */
  annotations?: Record<string, string>;
  /**
   * Provenance to attach: image outputs become an index with an attestation manifest
   * (attestation.ts); local and tar outputs get a `provenance.json` file.
   */
  provenance?: {
    /** The in-toto statement (JSON bytes) about `subject`. */
    statement(subject: { digest: Digest; name: string }): Uint8Array;
    platform: { os: string; architecture: string; variant?: string };
  };
}

/** A read-only view of the image's root filesystem; `release` must be called once. */
export interface RootfsView {
  dir: string;
  release(): Promise<void>;
}

export interface ExportSource {
  /** The image (the first platform's, in a multi-platform build). */
  image: ExportImage;
  /**
   * A multi-platform build: every platform's image (an index in image outputs, a directory
   * per platform in local and tar outputs). Absent for a single-platform build.
   */
  platforms?: { platform: { os: string; architecture: string; variant?: string }; image: ExportImage; openRootfs(): Promise<RootfsView> }[];
  /** Image names, e.g. from `-t`; may be empty. */
  names: string[];
  /** Mounts (or otherwise materializes) the root filesystem; only tar/local exporters call it. */
  openRootfs(): Promise<RootfsView>;
  /** Reports the bytes an exporter writes (the build's progress): `add` per chunk, `done` at the end. */
  transfer?(id: string, name: string, total?: number): { add(n: number): void; done(): void };
}

export interface ExportResult {
  kind: string;
  /** Where the output went ('-' for stdout). */
  dest?: string;
  manifestDigest?: Digest;
  configDigest?: Digest;
  /** The manifest descriptor as written into index.json. */
  descriptor?: Descriptor;
  /** Image names the export recorded (the local image store). */
  names?: string[];
}

export interface Exporter {
  kind: string;
  export(src: ExportSource): Promise<ExportResult>;
}
