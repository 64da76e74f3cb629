import { createReadStream } from 'node:fs';
import { lstat, readdir, readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { Db } from './db.ts';
import type { StateLayout } from './state-dir.ts';
import { isProcessAlive } from '../util/process.ts';
import { walkImage } from './image-walk.ts';
import { decompressLayer } from '../oci/decompress.ts';
import { sha256 } from '../util/digest.ts';

/**
 * What `kiln doctor --store` found. `problems` are states kiln's write order never
 * produces (a record pointing at nothing, a blob whose bytes do not match its digest):
 * each one is wrong. `leftovers` are what an interrupted write may leave (a directory or
 * blob no record refers to yet): harmless, and removed by `kiln prune`.
 */
export interface StoreReport {
  problems: string[];
  leftovers: string[];
  counts: { snapshots: number; cacheRecords: number; blobs: number; images: number };
}

interface SnapRow {
  id: string;
  parent: string | null;
  fs_id: string | null;
  chain_id: string | null;
  blob_digest: string | null;
  blob_size: number | null;
  blob_media_type: string | null;
  diff_id: string | null;
  lazy: number;
}

const SNAPSHOT_DIR = /^[0-9a-f]{12}$/;
const OWNED = /^(?:tmp-)?(\d+)-/;

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/**
 * A pulled layer's snapshot is found by its chain id: its blob must uncompress to the diff id
 * it records, and the chain id must be that diff id on its parent's chain (an image that lied
 * about a diff id would otherwise stand in for another image's layer).
 */
async function checkLayerIdentity(s: SnapRow, byId: Map<string, SnapRow>, blobPath: string): Promise<string[]> {
  if (!s.diff_id || !s.chain_id) return [];
  const out: string[] = [];
  const parentChain = s.parent ? byId.get(s.parent)?.chain_id : null;
  if (parentChain !== undefined) {
    const expected = parentChain ? sha256(`${parentChain} ${s.diff_id}`) : s.diff_id;
    if (expected !== s.chain_id) out.push(`snapshot ${s.id}: chain id ${s.chain_id} is not its diff id ${s.diff_id} on its parent's chain`);
  }
  const h = createHash('sha256');
  try {
    for await (const chunk of decompressLayer(createReadStream(blobPath), s.blob_media_type ?? '')) h.update(chunk as Buffer);
  } catch (err) {
    return [...out, `blob ${s.blob_digest}: cannot be uncompressed (${(err as Error).message})`];
  }
  const diffId = `sha256:${h.digest('hex')}`;
  if (diffId !== s.diff_id) out.push(`snapshot ${s.id}: its layer ${s.blob_digest} uncompresses to ${diffId}, not the diff id ${s.diff_id} it is recorded under`);
  return out;
}

/** Checks the records database against the files of a state dir. Read-only. */
export async function verifyStore(db: Db, layout: StateLayout): Promise<StoreReport> {
  const problems: string[] = [];
  const leftovers: string[] = [];
  const integrity = (db.prepare('PRAGMA integrity_check').all() as { integrity_check: string }[]).map((r) => r.integrity_check);
  if (integrity.join() !== 'ok') problems.push(`database: ${integrity.slice(0, 3).join('; ')}`);

  const snaps = db.prepare('SELECT id, parent, fs_id, chain_id, blob_digest, blob_size, blob_media_type, diff_id, lazy FROM snapshots').all() as unknown as SnapRow[];
  const byId = new Map(snaps.map((s) => [s.id, s]));
  const lazy = new Set<string>();
  for (const s of snaps) {
    if (s.parent && !byId.has(s.parent)) problems.push(`snapshot ${s.id}: its parent ${s.parent} has no record`);
    if (s.fs_id && !byId.has(s.fs_id)) problems.push(`snapshot ${s.id}: the layer it shares (${s.fs_id}) has no record`);
    const layer = join(layout.snapshots, s.fs_id ?? s.id, 'fs');
    // A lazy snapshot (an imported cache layer not extracted yet) has its blob and no directory.
    const owner = s.fs_id ? byId.get(s.fs_id) : s;
    if (!(await lstat(layer).catch(() => undefined))?.isDirectory()) {
      if (!owner?.lazy || !owner.blob_digest) problems.push(`snapshot ${s.id}: layer directory ${layer} is missing`);
      else lazy.add(owner.blob_digest.replace(/^sha256:/, ''));
    }
  }

  const cache = db.prepare('SELECT key, snapshot FROM cache').all() as { key: string; snapshot: string | null }[];
  for (const r of cache) if (r.snapshot && !byId.has(r.snapshot)) problems.push(`cache record ${r.key.slice(0, 19)}: snapshot ${r.snapshot} has no record`);

  // Blobs: every byte checked against its name; a snapshot's recorded blob must be there.
  const blobNames = new Set(await readdir(layout.blobs).catch(() => [] as string[]));
  for (const name of blobNames) {
    const path = join(layout.blobs, name);
    if (!/^[0-9a-f]{64}$/.test(name)) {
      const owner = /\.tmp-(\d+)-/.exec(name);
      if (!owner || !isProcessAlive(Number(owner[1]))) leftovers.push(`content/blobs/sha256/${name}: not a digest name`);
      continue;
    }
    if ((await sha256File(path)) !== name) problems.push(`blob sha256:${name}: its bytes do not match its digest`);
  }
  const usedBlobs = new Set<string>();
  for (const s of snaps) {
    if (!s.blob_digest) continue;
    const hex = s.blob_digest.replace(/^sha256:/, '');
    usedBlobs.add(hex);
    if (!blobNames.has(hex)) {
      if (lazy.has(hex)) problems.push(`snapshot ${s.id}: not extracted, and its layer blob ${s.blob_digest} is missing`);
      continue; // a layer blob may be pruned and is remade on export
    }
    const st = await lstat(join(layout.blobs, hex));
    if (s.blob_size !== null && st.size !== s.blob_size) problems.push(`blob ${s.blob_digest}: ${st.size} bytes, its snapshot ${s.id} records ${s.blob_size}`);
    problems.push(...(await checkLayerIdentity(s, byId, join(layout.blobs, hex))));
  }

  // Images: every blob a name reaches must be there, or be a layer kept as a recorded snapshot (built-layers.ts).
  const ids = new Set(snaps.map((s) => s.id));
  const built = db.prepare('SELECT diff_id, snapshot FROM built_layers').all() as { diff_id: string; snapshot: string }[];
  for (const b of built) if (!ids.has(b.snapshot)) problems.push(`built layer ${b.diff_id}: its snapshot ${b.snapshot} is missing`);
  const keptLayers = new Set(built.filter((b) => ids.has(b.snapshot)).map((b) => b.diff_id));
  const images = db.prepare('SELECT name, digest, media_type FROM images').all() as { name: string; digest: string; media_type: string }[];
  const inStore = (d: string) => blobNames.has(d.replace(/^sha256:/, ''));
  for (const img of images) {
    const g = await walkImage({ digest: img.digest, mediaType: img.media_type }, (d) => (inStore(d) ? readFile(join(layout.blobs, d.replace(/^sha256:/, ''))) : Promise.resolve(undefined)));
    for (const d of g.missing) problems.push(`image ${img.name}: ${inStore(d) ? `${d} is not a manifest or index` : `blob ${d} is missing`}`);
    for (const l of g.leaves) if (!inStore(l.digest) && !keptLayers.has(l.digest)) problems.push(`image ${img.name}: blob ${l.digest} is missing`);
  }

  const usedDirs = new Set(snaps.map((s) => s.fs_id ?? s.id));
  for (const name of await readdir(layout.snapshots).catch(() => [] as string[])) {
    const owner = OWNED.exec(name);
    if (owner && isProcessAlive(Number(owner[1]))) continue; // a running build's work in progress
    if ((SNAPSHOT_DIR.test(name) && usedDirs.has(name)) || name === 'empty') continue; // `empty`: the lower dir of base-less mounts
    leftovers.push(`snapshots/${name}: no record refers to it`);
  }
  for (const name of await readdir(layout.ingest).catch(() => [] as string[])) {
    const owner = /\.tmp-(\d+)-/.exec(name);
    if (owner && isProcessAlive(Number(owner[1]))) continue;
    leftovers.push(`content/ingest/${name}: an unfinished download or write`);
  }
  for (const name of await readdir(layout.run).catch(() => [] as string[])) {
    if (name === 'executor') continue; // the OCI runtime's own state dir
    const owner = OWNED.exec(name);
    if (owner && isProcessAlive(Number(owner[1]))) continue;
    leftovers.push(`run/${name}: the run dir of a process that is gone`);
  }
  return { problems, leftovers, counts: { snapshots: snaps.length, cacheRecords: cache.length, blobs: blobNames.size, images: images.length } };
}
