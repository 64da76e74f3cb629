import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Db } from './db.ts';
import type { StateLayout } from './state-dir.ts';

/** Bytes used by a file or tree (apparent sizes; hard links counted once). */
export async function treeSize(path: string, seen = new Set<string>()): Promise<number> {
  const st = await lstat(path).catch(() => undefined);
  if (!st) return 0;
  const id = `${st.dev}:${st.ino}`;
  if (seen.has(id)) return 0;
  seen.add(id);
  if (!st.isDirectory()) return st.size;
  let total = 0;
  for (const name of await readdir(path).catch(() => [] as string[])) total += await treeSize(join(path, name), seen);
  return total;
}

export interface UsageRecord {
  kind: 'layer' | 'blob';
  id: string;
  size: number;
  lastUsed?: number;
  /** Number of snapshots sharing this layer directory (merge), or cache records using it. */
  shared: number;
  description?: string;
}

/** Usage by kind (`kiln du`): snapshot layers, content blobs. Read-only. */
export async function diskUsage(db: Db, layout: StateLayout): Promise<UsageRecord[]> {
  const rows = db.prepare('SELECT id, fs_id, last_used FROM snapshots').all() as { id: string; fs_id: string | null; last_used: number }[];
  const desc = new Map<string, string>();
  for (const r of db.prepare('SELECT snapshot, description FROM cache').all() as { snapshot: string | null; description: string | null }[]) {
    if (r.snapshot && r.description) desc.set(r.snapshot, r.description);
  }
  const sharing = new Map<string, number>();
  for (const r of rows) sharing.set(r.fs_id ?? r.id, (sharing.get(r.fs_id ?? r.id) ?? 0) + 1);
  const out: UsageRecord[] = [];
  for (const r of rows) {
    if (r.fs_id) continue;
    out.push({ kind: 'layer', id: r.id, size: await treeSize(join(layout.snapshots, r.id)), lastUsed: r.last_used, shared: sharing.get(r.id) ?? 1, description: desc.get(r.id) });
  }
  for (const name of await readdir(layout.blobs).catch(() => [] as string[])) {
    out.push({ kind: 'blob', id: `sha256:${name}`, size: (await lstat(join(layout.blobs, name))).size, shared: 1 });
  }
  return out;
}
