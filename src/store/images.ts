import type { Db } from './db.ts';
import type { Descriptor } from '../oci/types.ts';

/**
 * The local image store's names: each a full reference (`docker.io/library/alpine:3.19`)
 * pointing at a manifest or index in the content store. Blobs stay while a name reaches
 * them (gc.ts marks them); removing a name leaves them to the next prune.
 */
export interface ImageRecord {
  name: string;
  target: Descriptor;
  createdAt: number;
}

export interface Images {
  get(name: string): ImageRecord | undefined;
  /** Names pointing at `digest`. */
  byDigest(digest: string): ImageRecord[];
  put(name: string, target: Descriptor): void;
  remove(name: string): boolean;
  list(): ImageRecord[];
}

interface Row {
  name: string;
  digest: string;
  media_type: string;
  size: number;
  created_at: number;
}

const toRecord = (r: Row): ImageRecord => ({ name: r.name, target: { mediaType: r.media_type, digest: r.digest, size: r.size } as Descriptor, createdAt: r.created_at });

export function openImages(db: Db): Images {
  return {
    get(name) {
      const r = db.prepare('SELECT * FROM images WHERE name = ?').get(name) as Row | undefined;
      return r ? toRecord(r) : undefined;
    },
    byDigest(digest) {
      return (db.prepare('SELECT * FROM images WHERE digest = ? ORDER BY name').all(digest) as unknown as Row[]).map(toRecord);
    },
    put(name, target) {
      db.prepare(
        'INSERT INTO images (name, digest, media_type, size, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET digest = excluded.digest, media_type = excluded.media_type, size = excluded.size, created_at = excluded.created_at',
      ).run(name, target.digest, target.mediaType, target.size, Date.now());
    },
    remove(name) {
      return Number(db.prepare('DELETE FROM images WHERE name = ?').run(name).changes) > 0;
    },
    list() {
      return (db.prepare('SELECT * FROM images ORDER BY name').all() as unknown as Row[]).map(toRecord);
    },
  };
}
