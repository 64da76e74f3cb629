/**
 * Writing an OCI image layout as a directory (oci exporter with tar=false). A directory
 * that already holds a layout is added to, as BuildKit does: blobs are content-addressed
 * and shared, and index.json keeps its other images. Every file is written to a temp name
 * and renamed, and index.json last, so a crash never leaves it pointing at a partial blob.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { tap } from '../util/tap.ts';
import { createDigester } from '../util/digest.ts';
import { KilnError } from '../util/errors.ts';
import { tempName, writeFileAtomic } from '../util/fs.ts';
import type { Descriptor } from '../oci/types.ts';
import { ANNOTATION_REF_NAME } from '../oci/media-types.ts';
import { IMAGE_NAME_ANNOTATION } from './index-entries.ts';
import { OCI_LAYOUT_BYTES, indexBytes, type LayoutRecord } from './layout.ts';
import type { BlobFile } from './tar-out.ts';

/** Writes the blob records into `dir`, then merges `manifests` into its index.json. */
export async function writeLayoutDir(dir: string, blobRecords: LayoutRecord[], manifests: Descriptor[]): Promise<void> {
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  for (const r of blobRecords) {
    const target = join(dir, r.name);
    if (r.kind === 'dir') continue;
    const size = r.kind === 'bytes' ? r.bytes.byteLength : r.blob.size;
    if (await hasSize(target, size)) continue;
    if (r.kind === 'bytes') await writeFileAtomic(target, r.bytes, 0o444);
    else await copyBlob(r.blob, target);
  }
  const layoutFile = join(dir, 'oci-layout');
  if (!(await hasSize(layoutFile, OCI_LAYOUT_BYTES.byteLength))) await writeFileAtomic(layoutFile, OCI_LAYOUT_BYTES, 0o444);
  const existing = await readIndexManifests(join(dir, 'index.json'));
  const kept = existing.filter((m) => !manifests.some((n) => sameName(m, n)));
  await writeFileAtomic(join(dir, 'index.json'), indexBytes([...kept, ...manifests]));
}

/** Two index entries name the same image: equal digests without names, or equal names. */
function sameName(a: Descriptor, b: Descriptor): boolean {
  const an = a.annotations ?? {};
  const bn = b.annotations ?? {};
  const aName = an[IMAGE_NAME_ANNOTATION] ?? an[ANNOTATION_REF_NAME];
  const bName = bn[IMAGE_NAME_ANNOTATION] ?? bn[ANNOTATION_REF_NAME];
  if (aName === undefined && bName === undefined) return a.digest === b.digest;
  return aName === bName;
}

async function readIndexManifests(path: string): Promise<Descriptor[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  try {
    const parsed = JSON.parse(text) as { manifests?: Descriptor[] };
    return Array.isArray(parsed.manifests) ? parsed.manifests : [];
  } catch (err) {
    throw new KilnError(`${path} is not valid JSON`, { kind: 'input', cause: err, hint: 'choose an empty directory or a valid OCI layout as dest' });
  }
}

async function hasSize(path: string, size: number): Promise<boolean> {
  try {
    const st = await stat(path);
    return st.isFile() && st.size === size;
  } catch {
    return false;
  }
}

/** Copies a blob to `target` through a temp file, verifying its digest and size. */
async function copyBlob(blob: BlobFile, target: string): Promise<void> {
  const tmp = tempName(target);
  const d = createDigester();
  const verify = tap((chunk) => d.update(chunk));
  try {
    await pipeline(createReadStream(blob.path), verify, createWriteStream(tmp, { mode: 0o444 }));
    const got = d.digest();
    if (d.size !== blob.size || got !== blob.digest) {
      throw new KilnError(`blob ${blob.digest} at ${blob.path} is corrupt: ${d.size} bytes with digest ${got}`, { kind: 'runtime' });
    }
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
