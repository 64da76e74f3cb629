import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ChownOpt } from '../../llb/types.ts';

export interface Ids {
  uid: number;
  gid: number;
}

async function readTable(root: string, file: string): Promise<string[][]> {
  try {
    const text = await readFile(join(root, 'etc', file), 'utf8');
    return text
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => l.split(':'));
  } catch {
    return [];
  }
}

/**
 * Resolves a COPY/ADD `--chown` owner against the destination's /etc/passwd and
 * /etc/group, exactly as BuildKit does: a numeric user without a group takes the uid as
 * gid; a user name takes uid and primary gid from /etc/passwd; a name that is not there
 * (or no passwd/group file at all) leaves uid/gid 0 (user) or the user's gid (group),
 * which BuildKit does silently: `warn` is told.
 */
export async function resolveOwner(root: string, owner: ChownOpt | undefined, warn: (msg: string) => void = () => {}): Promise<Ids | undefined> {
  if (!owner?.user) return undefined;
  let uid = 0;
  let gid = 0;
  if ('id' in owner.user) {
    uid = owner.user.id;
    gid = uid;
  } else {
    const name = owner.user.name;
    const row = (await readTable(root, 'passwd')).find((r) => r[0] === name);
    if (row) {
      uid = Number(row[2]);
      gid = Number(row[3]);
    } else warn(`--chown: no user "${name}" in /etc/passwd, so uid 0 and gid 0 are used (as BuildKit does)`);
  }
  if (owner.group) {
    if ('id' in owner.group) gid = owner.group.id;
    else {
      const name = owner.group.name;
      const row = (await readTable(root, 'group')).find((r) => r[0] === name);
      if (row) gid = Number(row[2]);
      else warn(`--chown: no group "${name}" in /etc/group, so gid ${gid} is used (as BuildKit does)`);
    }
  }
  return { uid, gid };
}
