import type { Db } from './db.ts';

/**
 * Image layers this machine built and keeps as snapshots only, with no blob: the local image
 * store lists them uncompressed (digest = diff id) and their tar is made from the snapshot
 * when an output needs the bytes (a push compresses them first). By chain id, `FROM` of such
 * an image uses the snapshot itself; GC keeps a snapshot while an image reaches its layer.
 */
export interface BuiltLayers {
  /** Records that `snapshot` (the top of an image layer's group) is the chain `chainId`, whose top layer is `diffId`. */
  record(chainId: string, diffId: string, snapshot: string): void;
  /** The snapshot that is chain `chainId`, if one is recorded. */
  byChainId(chainId: string): string | undefined;
  /** Snapshots whose top layer is `diffId` (any of them can make the layer's tar). */
  snapshotsOf(diffId: string): string[];
}

export function openBuiltLayers(db: Db): BuiltLayers {
  const put = db.prepare('INSERT OR REPLACE INTO built_layers (chain_id, diff_id, snapshot) VALUES (?, ?, ?)');
  const byChain = db.prepare('SELECT snapshot FROM built_layers WHERE chain_id = ?');
  const byDiff = db.prepare('SELECT snapshot FROM built_layers WHERE diff_id = ?');
  return {
    record(chainId, diffId, snapshot) {
      put.run(chainId, diffId, snapshot);
    },
    byChainId(chainId) {
      return (byChain.get(chainId) as { snapshot: string } | undefined)?.snapshot;
    },
    snapshotsOf(diffId) {
      return (byDiff.all(diffId) as { snapshot: string }[]).map((r) => r.snapshot);
    },
  };
}
