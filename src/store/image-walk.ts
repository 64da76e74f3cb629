import type { Descriptor } from '../oci/types.ts';
import type { ContentStore } from './content.ts';
import { isDigest, type Digest } from '../util/digest.ts';

/** What an image (index or manifest) reaches. */
export interface ImageGraph {
  /** Indexes and manifests, children before their parents (the order a push must follow), the root last. */
  nodes: { digest: string; mediaType: string; bytes: Uint8Array }[];
  /** Configs and layers, each once. */
  leaves: Descriptor[];
  /** Index/manifest digests `read` could not supply (missing, or not JSON). */
  missing: string[];
}

interface Doc {
  mediaType?: string;
  manifests?: Descriptor[];
  config?: Descriptor;
  layers?: Descriptor[];
}

/**
 * Walks the image `root` names: `read` supplies an index's or manifest's bytes (undefined
 * when it has not got them); configs and layers are only listed, never read. The one walk
 * that GC, doctor --store, image save/push/ls and oci-layout imports share.
 */
export async function walkImage(root: { digest: string; mediaType: string }, read: (digest: string) => Promise<Uint8Array | undefined>): Promise<ImageGraph> {
  const graph: ImageGraph = { nodes: [], leaves: [], missing: [] };
  const seen = new Set<string>();
  const visit = async (d: { digest: string; mediaType: string }): Promise<void> => {
    if (seen.has(d.digest)) return;
    seen.add(d.digest);
    const bytes = await read(d.digest);
    let doc: Doc | undefined;
    try {
      doc = bytes && (JSON.parse(new TextDecoder().decode(bytes)) as Doc);
    } catch {}
    if (!bytes || !doc) {
      graph.missing.push(d.digest);
      return;
    }
    for (const m of doc.manifests ?? []) await visit(m);
    for (const leaf of [doc.config, ...(doc.layers ?? [])]) {
      if (leaf && !seen.has(leaf.digest)) {
        seen.add(leaf.digest);
        graph.leaves.push(leaf);
      }
    }
    graph.nodes.push({ digest: d.digest, mediaType: d.mediaType || doc.mediaType || '', bytes });
  };
  await visit(root);
  return graph;
}

/** A `read` for walkImage over the content store: undefined for a blob it has not got. */
export function contentReader(content: ContentStore): (digest: string) => Promise<Uint8Array | undefined> {
  return async (d) => (isDigest(d) && (await content.has(d as Digest)) ? content.read(d as Digest) : undefined);
}
