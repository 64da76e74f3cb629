import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ChownOpt } from '../../llb/types.ts';
import { KilnError } from '../../util/errors.ts';

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
 * /etc/group. Like BuildKit: a numeric user without a group takes the uid as gid; a user
 * name takes its primary group from /etc/passwd.
 */
export async function resolveOwner(root: string, owner: ChownOpt | undefined): Promise<Ids | undefined> {
  if (!owner?.user) return undefined;
  let uid: number;
  let gid: number;
  if ('id' in owner.user) {
    uid = owner.user.id;
    gid = uid;
  } else {
    const name = owner.user.name;
    const row = (await readTable(root, 'passwd')).find((r) => r[0] === name);
    if (!row) throw new KilnError(`unable to find user ${name}: no matching entries in passwd file`, { kind: 'build' });
    uid = Number(row[2]);
    gid = Number(row[3]);
  }
  if (owner.group) {
    if ('id' in owner.group) gid = owner.group.id;
    else {
      const name = owner.group.name;
      const row = (await readTable(root, 'group')).find((r) => r[0] === name);
      if (!row) throw new KilnError(`unable to find group ${name}: no matching entries in group file`, { kind: 'build' });
      gid = Number(row[2]);
    }
  }
  return { uid, gid };
}

/** Parses `user[:group]` (names or numbers) into a ChownOpt; '' → undefined. */
export function parseChown(spec: string): ChownOpt | undefined {
  if (!spec) return undefined;
  const [u, g] = spec.split(':', 2);
  const part = (s: string) => (/^\d+$/.test(s) ? { id: Number(s) } : { name: s });
  return { user: part(u!), group: g !== undefined && g !== '' ? part(g) : undefined };
}
