/**
 * ADD's archive auto-extraction (BuildKit's AttemptUnpackDockerCompatibility): a local
 * source file that is a tar archive — plain, gzip, bzip2 or xz, told by its content, not
 * its name — is extracted into the destination directory instead of copied. Entries are
 * resolved inside the destination root, so nothing lands outside it.
 */
import { spawn } from 'node:child_process';
import { constants, createReadStream } from 'node:fs';
import { chmod, lchown, link, lstat, lutimes, mkdir, open, rm, symlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { feedTar } from '../../util/tar-end.ts';
import { createGunzip } from 'node:zlib';
import { extract, type Header } from 'tar-stream';
import { KilnError } from '../../util/errors.ts';
import { mknod } from '../../platform/linux-fs.ts';
import { resolveInRoot } from '../../util/root-path.ts';
import type { Ids } from './chown.ts';

type Compression = 'gzip' | 'bzip2' | 'xz' | 'none';

async function head(path: string, n: number): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

function compressionOf(b: Buffer): Compression {
  if (b[0] === 0x1f && b[1] === 0x8b) return 'gzip';
  if (b.subarray(0, 3).toString('latin1') === 'BZh') return 'bzip2';
  if (b.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  return 'none';
}

/** A decompressed stream of the file: gzip in process, bzip2/xz through the system tools. */
function openDecompressed(path: string, c: Compression): Readable {
  const file = createReadStream(path);
  if (c === 'none') return file;
  if (c === 'gzip') return file.pipe(createGunzip());
  const child = spawn(c === 'bzip2' ? 'bzip2' : 'xz', ['-dc'], { stdio: ['pipe', 'pipe', 'ignore'] });
  file.pipe(child.stdin);
  child.stdin.on('error', () => {});
  return child.stdout;
}

/** A valid ustar/gnu header block: checksum matches (as Go's tar.Reader requires). */
function isTarHeader(block: Buffer): boolean {
  if (block.length < 512) return false;
  const stored = parseInt(block.subarray(148, 156).toString('latin1').replace(/\0.*$/s, '').trim(), 8);
  if (Number.isNaN(stored)) return false;
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : block[i]!;
  return sum === stored;
}

/** Whether `path` holds a (possibly compressed) tar archive. */
export async function isArchive(path: string): Promise<Compression | undefined> {
  const c = compressionOf(await head(path, 6));
  if (c === 'none') return isTarHeader(await head(path, 512)) ? 'none' : undefined;
  const stream = openDecompressed(path, c);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of stream) {
      chunks.push(chunk as Buffer);
      size += (chunk as Buffer).length;
      if (size >= 512) break;
    }
  } catch {
    return undefined;
  } finally {
    stream.destroy();
  }
  return isTarHeader(Buffer.concat(chunks)) ? c : undefined;
}

/** Extracts the archive at `src` into container path `destDir` under `root`. */
export async function extractArchive(src: string, c: Compression, root: string, destDir: string, owner?: Ids): Promise<void> {
  const ex = extract();
  const dirTimes: { path: string; t: Date }[] = [];
  const done = (async () => {
    for await (const entry of ex) {
      const h = entry.header as Header;
      try {
        await extractEntry(h, entry as unknown as Readable, root, destDir, owner, dirTimes);
      } finally {
        entry.resume();
      }
    }
  })();
  try {
    await Promise.all([feedTar(openDecompressed(src, c), ex as unknown as Writable), done]);
  } catch (err) {
    if (err instanceof KilnError) throw err;
    throw new KilnError(`archive ${basename(src)} cannot be read: ${(err as Error).message}`, { kind: 'input', cause: err });
  }
  // Times last (children changed them); never through a link that replaced a directory.
  for (const d of dirTimes.reverse()) if ((await lstat(d.path).catch(() => undefined))?.isDirectory()) await lutimes(d.path, d.t, d.t);
}

async function extractEntry(h: Header, body: Readable, root: string, destDir: string, owner: Ids | undefined, dirTimes: { path: string; t: Date }[]): Promise<void> {
  const rel = h.name.split('/').filter((p) => p && p !== '.');
  if (rel.includes('..')) throw new KilnError(`archive entry escapes the destination: ${JSON.stringify(h.name)}`, { kind: 'input' });
  if (rel.length === 0) return;
  try {
    await writeEntry(h, body, rel, root, destDir, owner, dirTimes);
  } catch (err) {
    if (err instanceof KilnError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new KilnError(`archive entry ${JSON.stringify(h.name)} cannot be extracted: ${code ? `${code} ` : ''}${(err as Error).message}`, { kind: 'input', cause: err });
  }
}

/** One entry, every path resolved inside the destination root (util/root-path.ts). */
async function writeEntry(h: Header, body: Readable, rel: string[], root: string, destDir: string, owner: Ids | undefined, dirTimes: { path: string; t: Date }[]): Promise<void> {
  const parent = await resolveInRoot(root, join(destDir, ...rel.slice(0, -1)));
  await mkdirInRoot(root, parent);
  const target = join(parent, rel[rel.length - 1]!);
  const existing = await lstat(target).catch(() => undefined);
  if (existing && !(existing.isDirectory() && h.type === 'directory')) await rm(target, { recursive: true, force: true });
  switch (h.type) {
    case 'directory':
      if (!existing?.isDirectory()) await mkdir(target);
      break;
    case 'file':
    case 'contiguous-file':
      await pipeline(body, (await open(target, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600)).createWriteStream());
      break;
    case 'symlink':
      await symlink(h.linkname ?? '', target);
      break;
    case 'link': {
      // Only a regular file this archive extracted (or the destination holds) can be linked.
      const linkRel = (h.linkname ?? '').split('/').filter((p) => p && p !== '.');
      if (linkRel.includes('..')) throw new KilnError(`archive hard link ${JSON.stringify(h.name)} escapes the destination`, { kind: 'input' });
      const from = await resolveInRoot(root, join(destDir, ...linkRel), false);
      const st = await lstat(from).catch(() => undefined);
      if (!st) throw new KilnError(`archive hard link ${JSON.stringify(h.name)} points to ${JSON.stringify(h.linkname)}, which does not exist`, { kind: 'input' });
      if (!st.isFile()) throw new KilnError(`archive hard link ${JSON.stringify(h.name)} points to ${JSON.stringify(h.linkname)}, which is not a regular file`, { kind: 'input' });
      await link(from, target);
      return;
    }
    case 'character-device':
    case 'block-device':
      await mknod(target, h.type === 'character-device' ? 'c' : 'b', h.devmajor ?? 0, h.devminor ?? 0, h.mode ?? 0o644);
      break;
    case 'fifo':
      await mknod(target, 'p', 0, 0, h.mode ?? 0o644);
      break;
    default:
      return;
  }
  await lchown(target, owner?.uid ?? h.uid ?? 0, owner?.gid ?? h.gid ?? 0);
  if (h.type !== 'symlink') await chmod(target, (h.mode ?? 0o644) & 0o7777); // an entry just made here: not a link
  const t = h.mtime && !Number.isNaN(h.mtime.getTime()) ? h.mtime : new Date(0);
  if (h.type === 'directory') dirTimes.push({ path: target, t });
  else await lutimes(target, t, t);
}

/** mkdir -p of `dir` (resolved inside `root`): a component that is not a directory is an error. */
async function mkdirInRoot(root: string, dir: string): Promise<void> {
  let cur = root;
  for (const part of dir.slice(root.length).split('/').filter(Boolean)) {
    cur = join(cur, part);
    const st = await lstat(cur).catch(() => undefined);
    if (st?.isDirectory()) continue;
    if (st) throw new KilnError(`archive entry is under ${JSON.stringify(cur.slice(root.length))}, which is not a directory`, { kind: 'input' });
    await mkdir(cur);
  }
}
