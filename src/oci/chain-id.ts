import { sha256, type Digest } from '../util/digest.ts';

/** OCI chain ids: chain[0] = diff[0]; chain[i] = sha256(chain[i-1] + " " + diff[i]). */
export function chainIdsOf(diffIds: Digest[]): Digest[] {
  const out: Digest[] = [];
  for (const d of diffIds) out.push(out.length ? sha256(`${out[out.length - 1]} ${d}`) : d);
  return out;
}
