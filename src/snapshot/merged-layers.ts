/**
 * The squashed view of a layer group: several overlay layer directories (top first) that
 * make one image layer (an incremental COPY's deltas on the layer they started from; see
 * layerGroups in store/snapshots.ts). Overlay's rules, with one difference at the bottom:
 * - the topmost layer holding a name decides what it is;
 * - a whiteout above the bottom layer hides the name in the group and is not an entry (a
 *   delta only ever removes what the group itself added); the bottom layer's whiteouts hide
 *   what lies under the group, so they stay entries;
 * - a directory merges with the same directory in the layers below it, down to the first
 *   opaque one (included) or the first non-directory (excluded).
 * With one directory the view is that directory as it is.
 */
import { lstatSync, readdirSync, type Stats } from 'node:fs';
import { join } from 'node:path';

export interface MergedEntry {
  name: string;
  /** Path relative to the layer root. */
  rel: string;
  /** Where the entry is: in the layer that decides it. */
  abs: string;
  st: Stats;
  /** Directories: the layers (indices into the group, top first) whose contents merge under it. */
  layers?: number[];
  /** Directories: the merge stops at an opaque directory (which hides what lies under the group). */
  opaque?: boolean;
}

/** Byte order of names (tar entries and layer walks must not depend on the locale). */
export const byBytes = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

const isWhiteout = (st: Stats) => st.isCharacterDevice() && st.rdev === 0;

/**
 * The entries of directory `rel` in the view of `dirs` (top first), sorted by name bytes.
 * `layers`: where `rel` is a visible directory (from the parent's entry; all for the root).
 * `isOpaque(abs)`: whether the directory at `abs` carries overlay's opaque mark.
 */
export function mergedEntries(dirs: string[], rel: string, layers: number[], isOpaque: (abs: string) => boolean): MergedEntry[] {
  const bottom = dirs.length - 1;
  const names = new Set<string>();
  for (const i of layers) for (const n of readdirSync(join(dirs[i]!, rel))) names.add(n);
  const out: MergedEntry[] = [];
  for (const name of [...names].sort(byBytes)) {
    const r = rel ? `${rel}/${name}` : name;
    let found: MergedEntry | undefined;
    for (let k = 0; k < layers.length; k++) {
      const i = layers[k]!;
      const abs = join(dirs[i]!, r);
      const st = lstatSync(abs, { throwIfNoEntry: false });
      if (!st) continue;
      if (!found) {
        if (isWhiteout(st) && i !== bottom) break; // removed within the group
        found = { name, rel: r, abs, st };
        if (!st.isDirectory()) break;
        found.layers = [i];
        if (isOpaque(abs)) {
          found.opaque = true;
          break;
        }
        continue;
      }
      // Lower layers of a directory: merged while they hold a directory there.
      if (!st.isDirectory()) break;
      found.layers!.push(i);
      if (isOpaque(abs)) {
        found.opaque = true;
        break;
      }
    }
    if (found) out.push(found);
  }
  return out;
}

/** Indices of every layer of a group of `n` directories, top first. */
export const allLayers = (n: number) => Array.from({ length: n }, (_, i) => i);
