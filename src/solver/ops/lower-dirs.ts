import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Store } from '../../store/index.ts';
import { KilnError } from '../../util/errors.ts';
import type { Ref } from '../types.ts';

/**
 * The overlay lowerdirs (top first) for a snapshot ref. The empty file system is one
 * empty directory, since overlay needs at least one lower.
 */
export async function snapshotLowerDirs(store: Store, ref: Ref | undefined): Promise<string[]> {
  if (ref && ref.kind !== 'snapshot') throw new KilnError('a local directory cannot be the root of a step', { kind: 'internal' });
  const dirs = ref?.id ? store.snapshots.layerDirs(ref.id) : [];
  if (dirs.length) return dirs;
  const empty = join(store.layout.snapshots, 'empty');
  await mkdir(empty, { recursive: true });
  return [empty];
}
