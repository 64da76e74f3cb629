/**
 * Lazy snapshots (store/snapshots.ts commitLazy) hold a verified layer blob and nothing on
 * disk yet: an imported cache hit whose result only an image export needs is never
 * extracted. Whatever mounts or reads a snapshot's files calls ensureUnpacked first: it
 * extracts every lazy layer of the chain, base first, into a temp dir that is renamed into
 * place, so a crash leaves the snapshot lazy, never half extracted.
 */
import type { Store, SnapshotRecord } from '../store/index.ts';
import { KilnError } from '../util/errors.ts';
import { applyLayerBlobDiffId } from './apply-layer.ts';

const inflight = new Map<string, Promise<void>>();

/** The meta key marking a layer chain id whose record was found lying (its layer unpacks to another digest). */
export const brokenLayerKey = (chainId: string) => `broken-layer:${chainId}`;

export async function ensureUnpacked(store: Store, id: string | null): Promise<void> {
  if (!id) return;
  for (const rec of store.snapshots.chain(id)) {
    const owner = rec.fsId ? store.snapshots.get(rec.fsId) : rec;
    if (!owner) throw new KilnError(`snapshot ${rec.id}: the layer it shares (${rec.fsId}) has no record`, { kind: 'internal', hint: 'kiln doctor --store' });
    if (store.snapshots.isUnpacked(owner)) continue;
    let p = inflight.get(owner.id);
    if (!p) {
      p = unpack(store, owner).finally(() => inflight.delete(owner.id));
      inflight.set(owner.id, p);
    }
    await p;
  }
}

async function unpack(store: Store, rec: SnapshotRecord): Promise<void> {
  const blob = rec.blob;
  if (!blob || !(await store.content.has(blob.digest))) {
    throw new KilnError(`snapshot ${rec.id}: its layer blob ${blob?.digest ?? '(none)'} is not in the content store`, { kind: 'internal', hint: 'kiln prune --all, then build again' });
  }
  // Hard links may point into the layers below: those are extracted first.
  await ensureUnpacked(store, rec.parent);
  const active = await store.snapshots.prepare();
  try {
    const lowerDirs = rec.parent ? store.snapshots.layerDirs(rec.parent) : [];
    const { diffId } = await applyLayerBlobDiffId(store.content.path(blob.digest), blob.mediaType, active.fs, { lowerDirs });
    if (diffId !== blob.diffId) {
      // A record (an imported cache's) lied about this layer: no build may use it again.
      store.cache.dropBuiltOn(rec.id);
      store.meta.set(brokenLayerKey(rec.chainId ?? rec.id), `${blob.digest} unpacks to ${diffId}`);
      throw new KilnError(`layer ${blob.digest} unpacks to ${diffId}, not the ${blob.diffId} its cache record gives`, {
        kind: 'input',
        hint: 'the imported cache it came from is inconsistent: kiln dropped what was built on it and will not use that record again; build again',
      });
    }
    await store.snapshots.fill(rec, active);
  } catch (err) {
    await store.snapshots.discard(active);
    throw err;
  }
}
