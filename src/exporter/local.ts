/**
 * The `local` exporter: the image's root filesystem copied into a directory.
 */
import { lstat, mkdir, readdir, rename, rmdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { sha256 } from '../util/digest.ts';
import { buildImageBlobs } from './image-blobs.ts';
import * as v from 'valibot';
import { KilnError, usageError } from '../util/errors.ts';
import { removeAll, tempName } from '../util/fs.ts';
import { copyTree } from './copy-tree.ts';
import { platformDirName } from './multi-platform.ts';
import type { ExportResult, ExportSource, Exporter } from './types.ts';

export interface LocalExporterOptions {
  /** The directory to write (created with its parents). */
  dest: string;
  /** Multi-platform builds: a directory per platform (`linux_amd64/`, default), or every platform's files merged into dest (later platforms win). */
  platformSplit?: boolean;
}

const OptionsSchema = v.object({
  dest: v.pipe(
    v.string(),
    v.minLength(1, 'the local exporter needs dest'),
    v.check((d) => d !== '-', 'the local exporter writes a directory; dest cannot be stdout'),
  ),
  platformSplit: v.optional(v.boolean()),
});

/**
 * Validates the options and returns the exporter. When `dest` is missing or empty the tree
 * is copied to a temp directory beside it and renamed into place, so `dest` appears
 * complete or not at all. When `dest` already holds files, the rootfs is merged into it,
 * each entry written to a temp name and renamed over the old one (files not in the rootfs
 * stay). The rootfs view is always released.
 */
export function createLocalExporter(options: LocalExporterOptions): Exporter {
  const parsed = v.safeParse(OptionsSchema, options);
  if (!parsed.success) throw usageError(`local exporter: ${parsed.issues[0].message}`);
  const { dest } = options;

  return {
    kind: 'local',
    export: async function exportLocal(src: ExportSource): Promise<ExportResult> {
      const state = await destState(dest);
      if (state === 'nonempty') {
        await writeTrees(src, dest, { merge: true, split: options.platformSplit ?? true });
      } else {
        await mkdir(dirname(dest), { recursive: true });
        const tmp = tempName(dest);
        try {
          await writeTrees(src, tmp, { merge: false, split: options.platformSplit ?? true });
          if (state === 'empty') await rmdir(dest);
          await rename(tmp, dest);
        } catch (err) {
          await removeAll(tmp);
          throw err;
        }
      }
      return { kind: 'local', dest };
    },
  };
}

/** The root filesystem (with its provenance file) into `dir`; one per platform in `dir/os_arch/` for a multi-platform build, unless not split. */
async function writeTrees(src: ExportSource, dir: string, o: { merge: boolean; split: boolean }): Promise<void> {
  const parts = src.platforms
    ? src.platforms.map((p) => ({ sub: { image: p.image, names: src.names, openRootfs: p.openRootfs }, to: o.split ? join(dir, platformDirName(p.platform)) : dir }))
    : [{ sub: src, to: dir }];
  for (const [i, { sub, to }] of parts.entries()) {
    const view = await sub.openRootfs();
    try {
      // Unsplit platforms land in one directory: each after the first merges over it.
      const merge = o.merge || (!o.split && i > 0);
      if (!merge && to !== dir) await mkdir(dir, { recursive: true });
      await copyTree(view.dir, to, { merge });
      await writeProvenanceFile(sub, to);
    } finally {
      await view.release();
    }
  }
}

/** `provenance.json` at the root of the output (BuildKit's local and tar exporters), when the build has provenance. */
export async function writeProvenanceFile(src: ExportSource, dir: string): Promise<void> {
  const bytes = provenanceFileBytes(src);
  if (bytes) await writeFile(join(dir, 'provenance.json'), bytes);
}

/** The provenance statement for a root-filesystem output: its subject is the image config (no manifest exists). */
export function provenanceFileBytes(src: ExportSource): Uint8Array | undefined {
  const p = src.image.provenance;
  if (!p) return undefined;
  return p.statement({ digest: sha256(buildImageBlobs(src.image).config.bytes), name: '_' });
}

async function destState(dest: string): Promise<'missing' | 'empty' | 'nonempty'> {
  const st = await lstat(dest).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (!st) return 'missing';
  if (!st.isDirectory()) {
    throw new KilnError(`local exporter: ${dest} exists and is not a directory`, { kind: 'usage', hint: 'choose a directory path as dest' });
  }
  return (await readdir(dest)).length === 0 ? 'empty' : 'nonempty';
}
