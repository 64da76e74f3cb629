import { existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Db } from './db.ts';
import type { Digest } from '../util/digest.ts';
import { removeAll } from '../util/fs.ts';

/** A committed, immutable snapshot: one overlay layer directory plus its parent chain. */
export interface SnapshotRecord {
  id: string;
  parent: string | null;
  chainId: string | null;
  blob: { digest: Digest; size: number; mediaType: string; diffId: Digest } | null;
  /**
   * The image layer's uncompressed identity (sha256 and size of its deterministic tar), once
   * measured; a snapshot may know it without having a blob (the local image store keeps
   * layers uncompressed, made from the snapshot when an output needs them).
   */
  diff: LayerDiff | null;
  /** The snapshot whose layer directory this one shares (merge re-parents layers), or null. */
  fsId: string | null;
  /**
   * The layer directory is a delta on the parent's (an incremental COPY): mounted as a layer
   * of its own, but exported together with the parent as one image layer (layerGroups).
   */
  joinsParent: boolean;
}

export interface LayerDiff {
  diffId: Digest;
  size: number;
}

/**
 * The image layers of a chain (base first): each group is one image layer, the snapshots
 * whose layer dirs make it (bottom first). A snapshot that joins its parent belongs to the
 * parent's group; the group's top record carries the group's blob.
 */
export function layerGroups(chain: SnapshotRecord[]): SnapshotRecord[][] {
  const groups: SnapshotRecord[][] = [];
  for (const rec of chain) {
    const last = groups[groups.length - 1];
    if (rec.joinsParent && last) last.push(rec);
    else groups.push([rec]);
  }
  return groups;
}

/** The snapshot that carries each image layer's blob (the top of each group, base first). */
export function groupTops(chain: SnapshotRecord[]): SnapshotRecord[] {
  return layerGroups(chain).map((g) => g[g.length - 1]!);
}

/** A snapshot being written: nothing refers to it until commit(). */
export interface ActiveSnapshot {
  id: string;
  /** The layer directory (overlay upper dir). */
  fs: string;
  /** The overlay work dir (same file system as fs). */
  work: string;
}

export interface SnapshotStore {
  /** Creates an empty active snapshot in a temp location. */
  prepare(): Promise<ActiveSnapshot>;
  /**
   * Makes the active snapshot permanent: moves it to `snapshots/<id>` and records it.
   * Returns the existing record instead when `chainId` is already committed (another
   * process got there first); the active one is then discarded.
   */
  commit(active: ActiveSnapshot, opts: { parent: string | null; chainId?: string; blob?: SnapshotRecord['blob']; joinsParent?: boolean }): Promise<SnapshotRecord>;
  discard(active: ActiveSnapshot): Promise<void>;
  /**
   * Records a *lazy* snapshot: its layer blob (in the content store) on top of `parent`, not
   * extracted yet (snapshot/unpack.ts extracts it before anything reads it). Returns the
   * existing record when `chainId` is already known.
   */
  commitLazy(opts: { parent: string | null; chainId: string; blob: NonNullable<SnapshotRecord['blob']> }): SnapshotRecord;
  /** Whether the snapshot's layer directory exists (false for a lazy one not extracted yet). */
  isUnpacked(rec: SnapshotRecord): boolean;
  /** Puts an extracted lazy layer in place (another process may have done it first: then `active` is dropped). */
  fill(rec: SnapshotRecord, active: ActiveSnapshot): Promise<void>;
  get(id: string): SnapshotRecord | undefined;
  byChainId(chainId: string): SnapshotRecord | undefined;
  /** Layer directories from the top (this snapshot) down to the base. */
  layerDirs(id: string | null): string[];
  /** The layer directories of the image layer `rec` tops (its group: see layerGroups), top first. */
  groupDirs(rec: SnapshotRecord): string[];
  /** Records, base first, ending with `id`. */
  chain(id: string | null): SnapshotRecord[];
  setBlob(id: string, blob: NonNullable<SnapshotRecord['blob']>): void;
  /** Records the image layer's diff id and uncompressed size (for every snapshot sharing the layer dir). */
  setDiff(id: string, diff: LayerDiff): void;
  /** Records the layer's apparent size (bytes), when its maker knows it (else measured on demand). */
  setSize(id: string, size: number): void;
  /**
   * Records a snapshot that reuses `layer`'s directory (and blob) on top of `parent`:
   * how merge stacks existing layers without copying them. Idempotent per (parent, layer).
   * A layer that joins its parent keeps doing so: relink it only onto a relink of its own
   * parent (merge relinks whole chains, base first).
   */
  relink(layer: SnapshotRecord, parent: string | null): SnapshotRecord;
  /** The directory holding a snapshot's layer (its own or the one it shares). */
  layerDir(rec: SnapshotRecord): string;
  dir(id: string): string;
}

interface Row {
  id: string;
  parent: string | null;
  chain_id: string | null;
  blob_digest: string | null;
  blob_size: number | null;
  blob_media_type: string | null;
  diff_id: string | null;
  diff_size: number | null;
  fs_id: string | null;
  joins_parent: number | null;
}

function toRecord(r: Row): SnapshotRecord {
  return {
    id: r.id,
    parent: r.parent,
    chainId: r.chain_id,
    blob: r.blob_digest
      ? { digest: r.blob_digest as Digest, size: r.blob_size ?? 0, mediaType: r.blob_media_type ?? '', diffId: r.diff_id as Digest }
      : null,
    diff: r.diff_id && r.diff_size !== null && r.diff_size !== undefined ? { diffId: r.diff_id as Digest, size: r.diff_size } : null,
    fsId: r.fs_id,
    joinsParent: !!r.joins_parent,
  };
}

/**
 * `beforeCommit` runs before each commit records a snapshot (unsynced.ts: the files of a
 * snapshot are not yet synced when it is recorded).
 */
export function openSnapshotStore(db: Db, root: string, beforeCommit: () => Promise<void> = async () => {}): SnapshotStore {
  const getStmt = db.prepare('SELECT * FROM snapshots WHERE id = ?');
  const chainStmt = db.prepare('SELECT * FROM snapshots WHERE chain_id = ?');
  const dir = (id: string) => join(root, id);
  const get = (id: string) => {
    const r = getStmt.get(id) as Row | undefined;
    return r ? toRecord(r) : undefined;
  };
  const chain = (id: string | null): SnapshotRecord[] => {
    const out: SnapshotRecord[] = [];
    for (let cur = id; cur; ) {
      const rec = get(cur);
      if (!rec) throw new Error(`snapshot ${cur} is missing from the records`);
      out.unshift(rec);
      cur = rec.parent;
    }
    return out;
  };
  return {
    dir,
    get,
    chain,
    byChainId(chainId) {
      const r = chainStmt.get(chainId) as Row | undefined;
      return r ? toRecord(r) : undefined;
    },
    layerDirs(id) {
      return chain(id)
        .reverse()
        .map((r) => join(dir(r.fsId ?? r.id), 'fs'));
    },
    groupDirs(rec) {
      const out = [join(dir(rec.fsId ?? rec.id), 'fs')];
      for (let cur = rec; cur.joinsParent && cur.parent; ) {
        const p = get(cur.parent);
        if (!p) throw new Error(`snapshot ${cur.parent} is missing from the records`);
        out.push(join(dir(p.fsId ?? p.id), 'fs'));
        cur = p;
      }
      return out;
    },
    async prepare() {
      const id = randomBytes(6).toString('hex');
      const base = join(root, `tmp-${process.pid}-${id}`);
      await mkdir(join(base, 'fs'), { recursive: true });
      await mkdir(join(base, 'work'), { recursive: true });
      return { id, fs: join(base, 'fs'), work: join(base, 'work') };
    },
    async commit(active, opts) {
      const now = Date.now();
      if (opts.chainId) {
        const existing = this.byChainId(opts.chainId);
        if (existing) {
          await this.discard(active);
          return existing;
        }
      }
      const base = join(root, `tmp-${process.pid}-${active.id}`);
      await beforeCommit();
      await rm(join(base, 'work'), { recursive: true, force: true });
      await rename(base, dir(active.id));
      const b = opts.blob;
      try {
        db.prepare(
          'INSERT INTO snapshots (id, parent, chain_id, blob_digest, blob_size, blob_media_type, diff_id, joins_parent, created_at, last_used) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
        ).run(active.id, opts.parent, opts.chainId ?? null, b?.digest ?? null, b?.size ?? null, b?.mediaType ?? null, b?.diffId ?? null, opts.joinsParent && opts.parent ? 1 : 0, now, now);
      } catch (err) {
        // Lost a race on chain_id with another process: use theirs.
        const existing = opts.chainId ? this.byChainId(opts.chainId) : undefined;
        await removeAll(dir(active.id));
        if (existing) return existing;
        throw err;
      }
      return get(active.id)!;
    },
    async discard(active) {
      await removeAll(join(root, `tmp-${process.pid}-${active.id}`));
    },
    layerDir(rec) {
      return join(dir(rec.fsId ?? rec.id), 'fs');
    },
    commitLazy(opts) {
      const existing = this.byChainId(opts.chainId);
      if (existing) return existing;
      const id = randomBytes(6).toString('hex');
      const now = Date.now();
      const b = opts.blob;
      try {
        db.prepare(
          'INSERT INTO snapshots (id, parent, chain_id, blob_digest, blob_size, blob_media_type, diff_id, joins_parent, lazy, created_at, last_used) VALUES (?, ?, ?, ?, ?, ?, ?, 0, 1, ?, ?)',
        ).run(id, opts.parent, opts.chainId, b.digest, b.size, b.mediaType, b.diffId, now, now);
      } catch (err) {
        const raced = this.byChainId(opts.chainId);
        if (raced) return raced;
        throw err;
      }
      return get(id)!;
    },
    isUnpacked(rec) {
      return existsSync(join(dir(rec.fsId ?? rec.id), 'fs'));
    },
    async fill(rec, active) {
      const home = dir(rec.fsId ?? rec.id);
      await mkdir(home, { recursive: true });
      try {
        await rename(active.fs, join(home, 'fs'));
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
      }
      db.prepare('UPDATE snapshots SET lazy = 0 WHERE id = ?').run(rec.id);
      await this.discard(active);
    },
    relink(layer, parent) {
      const fsId = layer.fsId ?? layer.id;
      if (layer.parent === parent) return layer;
      const existing = db.prepare('SELECT * FROM snapshots WHERE fs_id = ? AND parent IS ?').get(fsId, parent) as Row | undefined;
      if (existing) return toRecord(existing);
      const id = randomBytes(6).toString('hex');
      const now = Date.now();
      const b = layer.blob;
      db.prepare(
        'INSERT INTO snapshots (id, parent, chain_id, blob_digest, blob_size, blob_media_type, diff_id, diff_size, fs_id, joins_parent, created_at, last_used) VALUES (?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ).run(id, parent, b?.digest ?? null, b?.size ?? null, b?.mediaType ?? null, b?.diffId ?? layer.diff?.diffId ?? null, layer.diff?.size ?? null, fsId, layer.joinsParent && parent ? 1 : 0, now, now);
      return get(id)!;
    },
    setSize(id, size) {
      db.prepare('UPDATE snapshots SET size = ? WHERE id = ?').run(size, id);
    },
    setBlob(id, blob) {
      // Every snapshot sharing this layer directory has the same layer blob.
      const rec = get(id);
      const fsId = rec?.fsId ?? id;
      db.prepare('UPDATE snapshots SET blob_digest = ?, blob_size = ?, blob_media_type = ?, diff_id = ? WHERE id = ? OR fs_id = ?').run(
        blob.digest,
        blob.size,
        blob.mediaType,
        blob.diffId,
        fsId,
        fsId,
      );
    },
    setDiff(id, diff) {
      const fsId = get(id)?.fsId ?? id;
      db.prepare('UPDATE snapshots SET diff_id = ?, diff_size = ? WHERE id = ? OR fs_id = ?').run(diff.diffId, diff.size, fsId, fsId);
    },
  };
}
