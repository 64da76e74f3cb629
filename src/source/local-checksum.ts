import { createReadStream } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { KilnError } from '../util/errors.ts';
import type { Digest } from '../util/digest.ts';

/**
 * A content checksum of a directory tree: paths, types, permission bits, owners are
 * ignored (context files become root's), sizes, file contents and link targets. mtimes do
 * not count, so touching a file changes nothing. `exclude(rel)` drops a path and, for a
 * directory, everything under it.
 */
export async function checksumTree(root: string, exclude: (rel: string, isDir: boolean) => boolean = () => false): Promise<Digest> {
  const h = createHash('sha256');
  const walk = async (rel: string): Promise<void> => {
    const dir = join(root, rel);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (err) {
      throw new KilnError(`cannot read ${rel || '.'} in the build context: ${(err as Error).message}`, { kind: 'input' });
    }
    for (const name of names.sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const abs = join(root, r);
      const st = await lstat(abs);
      if (exclude(r, st.isDirectory())) continue;
      const mode = (st.mode & 0o7777).toString(8);
      if (st.isDirectory()) {
        h.update(`d ${r} ${mode}\0`);
        await walk(r);
      } else if (st.isSymbolicLink()) {
        h.update(`l ${r} ${await readlink(abs)}\0`);
      } else if (st.isFile()) {
        h.update(`f ${r} ${mode} ${st.size} ${await fileDigest(abs, r)}\0`);
      } else {
        throw new KilnError(`the build context holds ${r}, which is not a regular file, directory or symlink`, {
          kind: 'input',
          hint: 'remove it or list it in .dockerignore',
        });
      }
    }
  };
  await walk('');
  return `sha256:${h.digest('hex')}`;
}

function fileDigest(path: string, rel: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (c) => h.update(c))
      .on('error', (err) => reject(new KilnError(`cannot read ${rel} in the build context: ${err.message}`, { kind: 'input' })))
      .on('end', () => resolve(h.digest('hex')));
  });
}
