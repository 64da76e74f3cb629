import { lstat, readdir, readFile } from 'node:fs/promises';
import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Db } from './db.ts';
import { walkImage } from './image-walk.ts';
import type { StateLayout } from './state-dir.ts';

/**
 * Bytes used by a file or tree (apparent sizes; hard links counted once). Synchronous calls:
 * a promise per entry made a 20,000-file layer cost most of a second.
 */
export async function treeSize(path: string, seen = new Set<string>()): Promise<number> {
  const walk = (p: string): number => {
    const st = lstatSync(p, { throwIfNoEntry: false });
    if (!st) return 0;
    if (st.nlink > 1 || st.isDirectory()) {
      const id = `${st.dev}:${st.ino}`;
      if (seen.has(id)) return 0;
      seen.add(id);
    }
    if (!st.isDirectory()) return st.size;
    let names: string[];
    try {
      names = readdirSync(p);
    } catch {
      names = [];
    }
    let total = 0; // a directory's own blocks are not counted (as before)
    for (const name of names) total += walk(join(p, name));
    return total;
  };
  return walk(path);
}

export interface UsageRecord {
  kind: 'layer' | 'blob' | 'cachemount' | 'image';
  id: string;
  size: number;
  lastUsed?: number;
  /** Number of snapshots sharing this layer directory (merge), or cache records using it. */
  shared: number;
  description?: string;
  /** For an image: the digests of the blobs it reaches (its size is theirs, already under blobs). */
  blobs?: string[];
}

/** A snapshot layer's size: measured once, then read from its record (layers never change). */
export async function layerSize(db: Db, layout: StateLayout, id: string, known?: number | null): Promise<number> {
  if (known !== undefined && known !== null) return known;
  const row = db.prepare('SELECT size, lazy FROM snapshots WHERE id = ?').get(id) as { size: number | null; lazy: number } | undefined;
  if (row?.size !== undefined && row.size !== null) return row.size;
  const size = await treeSize(join(layout.snapshots, id));
  // A lazy layer (not extracted yet) has no files so far: measured again once it has.
  if (!row?.lazy) db.prepare('UPDATE snapshots SET size = ? WHERE id = ?').run(size, id);
  return size;
}

/** A cache mount's size: measured when unknown (after each use), then remembered. */
export async function cacheMountSize(db: Db, layout: StateLayout, dir: string, known: number | null): Promise<number> {
  if (known !== null) return known;
  const size = await treeSize(join(layout.cacheMounts, dir));
  db.prepare('UPDATE cache_mounts SET size = ? WHERE dir = ?').run(size, dir);
  return size;
}

async function readBlob(layout: StateLayout, digest: string): Promise<Uint8Array | undefined> {
  const m = /^sha256:([0-9a-f]{64})$/.exec(digest);
  return m ? readFile(join(layout.blobs, m[1]!)).catch(() => undefined) : undefined;
}

/** Usage by kind (`kiln du`, GC): snapshot layers, content blobs, cache mounts. */
export async function diskUsage(db: Db, layout: StateLayout): Promise<UsageRecord[]> {
  const rows = db.prepare('SELECT id, fs_id, last_used, size FROM snapshots').all() as { id: string; fs_id: string | null; last_used: number; size: number | null }[];
  const desc = new Map<string, string>();
  for (const r of db.prepare('SELECT snapshot, description FROM cache').all() as { snapshot: string | null; description: string | null }[]) {
    if (r.snapshot && r.description) desc.set(r.snapshot, r.description);
  }
  const sharing = new Map<string, number>();
  for (const r of rows) sharing.set(r.fs_id ?? r.id, (sharing.get(r.fs_id ?? r.id) ?? 0) + 1);
  const out: UsageRecord[] = [];
  for (const r of rows) {
    if (r.fs_id) continue;
    out.push({ kind: 'layer', id: r.id, size: await layerSize(db, layout, r.id, r.size), lastUsed: r.last_used, shared: sharing.get(r.id) ?? 1, description: desc.get(r.id) });
  }
  for (const name of await readdir(layout.blobs).catch(() => [] as string[])) {
    const st = await lstat(join(layout.blobs, name)).catch(() => undefined);
    if (st) out.push({ kind: 'blob', id: `sha256:${name}`, size: st.size, shared: 1 });
  }
  // Images: names in the local image store, sized by the blobs they reach (which are counted
  // under blobs too: an image row is a view of blob bytes, never added to a total).
  const images = db.prepare('SELECT name, digest, media_type, created_at FROM images').all() as { name: string; digest: string; media_type: string; created_at: number }[];
  const reachedBy = new Map<string, number>();
  const graphs = [];
  for (const img of images) {
    const g = await walkImage({ digest: img.digest, mediaType: img.media_type }, (d) => readBlob(layout, d));
    const blobs = new Map<string, number>([...g.nodes.map((n) => [n.digest, n.bytes.byteLength] as const), ...g.leaves.map((l) => [l.digest, l.size] as const)]);
    for (const d of blobs.keys()) reachedBy.set(d, (reachedBy.get(d) ?? 0) + 1);
    graphs.push({ img, blobs });
  }
  for (const { img, blobs } of graphs) {
    const size = [...blobs.values()].reduce((a, n) => a + n, 0);
    const shared = Math.max(1, ...[...blobs.keys()].map((d) => reachedBy.get(d) ?? 1));
    out.push({ kind: 'image', id: img.name, size, lastUsed: img.created_at, shared, description: `${img.digest} (its blobs)`, blobs: [...blobs.keys()] });
  }
  const mounts = db.prepare('SELECT dir, id, last_used, size FROM cache_mounts').all() as { dir: string; id: string; last_used: number; size: number | null }[];
  for (const m of mounts) {
    out.push({ kind: 'cachemount', id: m.dir, size: await cacheMountSize(db, layout, m.dir, m.size), lastUsed: m.last_used, shared: 1, description: `cache mount id=${m.id}` });
  }
  return out;
}
