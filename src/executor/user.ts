/**
 * USER resolution against the rootfs' /etc/passwd and /etc/group, with the semantics (and
 * error texts) of BuildKit's GetUser and moby/sys/user's GetExecUser.
 */
import { open } from 'node:fs/promises';
import { KilnError } from '../util/errors.ts';
import { resolveInRoot } from '../util/root-path.ts';
import type { ResolvedUser } from './types.ts';

const MAX_USER_FILE_BYTES = 10 << 20;
const MAX_ID = 2147483647;

interface PasswdEntry { name: string; uid: number; gid: number }
interface GroupEntry { name: string; gid: number; members: string[] }

/** Go's strconv.Atoi for the ids we care about: null when the text is not a number. */
function atoi(s: string): number | null {
  if (!/^[+-]?\d+$/.test(s)) return null;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : null;
}

/** BuildKit's parseUID: "root" or an unsigned 32-bit number. */
function parseUid(s: string): number | null {
  if (s === 'root') return 0;
  if (!/^\d+$/.test(s)) return null;
  const n = Number(s);
  return n <= 0xffffffff ? n : null;
}

/** The text of a regular file inside the rootfs, or null when it is missing or unusable. */
async function readUserFile(rootfs: string, path: string): Promise<string | null> {
  let fh;
  try {
    fh = await open(await resolveInRoot(rootfs, path), 'r');
  } catch {
    return null;
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) return null;
    if (st.size > MAX_USER_FILE_BYTES) {
      throw new KilnError(`"${path}" exceeds ${MAX_USER_FILE_BYTES} bytes`, { kind: 'build' });
    }
    return await fh.readFile('utf8');
  } finally {
    await fh.close();
  }
}

function lines(text: string): string[][] {
  return text.split('\n').map((l) => l.trim()).filter((l) => l !== '').map((l) => l.split(':'));
}

export function parsePasswd(text: string): PasswdEntry[] {
  return lines(text).map((f) => ({ name: f[0] ?? '', uid: atoi(f[2] ?? '') ?? 0, gid: atoi(f[3] ?? '') ?? 0 }));
}

export function parseGroup(text: string): GroupEntry[] {
  return lines(text).map((f) => ({
    name: f[0] ?? '',
    gid: atoi(f[2] ?? '') ?? 0,
    members: f[3] ? f[3].split(',').map((m) => m.trim()).filter((m) => m !== '') : [],
  }));
}

function rangeError(): KilnError {
  return new KilnError('uids and gids must be in range 0-2147483647', { kind: 'build' });
}

/** moby/sys/user GetExecUser with no defaults; `passwd`/`group` null when the file is absent. */
function execUser(spec: string, passwd: string | null, group: string | null): { uid: number; gid: number; sgids: number[] } {
  const [userArg = '', groupArg = ''] = spec.split(':');
  const uidArg = atoi(userArg);
  const gidArg = atoi(groupArg);
  const out = { uid: 0, gid: 0, sgids: [] as number[] };

  const users = passwd === null ? [] : parsePasswd(passwd).filter((u) => (uidArg !== null ? u.uid === uidArg : u.name === userArg));
  let matchedName = '';
  if (users.length > 0) {
    matchedName = users[0]!.name;
    out.uid = users[0]!.uid;
    out.gid = users[0]!.gid;
  } else if (userArg !== '') {
    if (uidArg === null) {
      throw new KilnError(`unable to find user ${userArg}: no matching entries in passwd file`, { kind: 'build' });
    }
    if (uidArg < 0 || uidArg > MAX_ID) throw rangeError();
    out.uid = uidArg;
  }

  if (groupArg === '' && matchedName === '') return out;
  const groups = group === null ? [] : parseGroup(group).filter((g) => {
    if (groupArg === '') return g.members.includes(matchedName);
    return gidArg !== null ? g.gid === gidArg : g.name === groupArg;
  });
  if (groupArg !== '') {
    if (groups.length > 0) {
      out.gid = groups[0]!.gid;
    } else {
      if (gidArg === null) {
        throw new KilnError(`unable to find group ${groupArg}: no matching entries in group file`, { kind: 'build' });
      }
      if (gidArg < 0 || gidArg > MAX_ID) throw rangeError();
      out.gid = gidArg;
    }
  } else {
    out.sgids = groups.map((g) => g.gid);
  }
  return out;
}

/**
 * Resolves a USER value ("uid[:gid]", "name[:group]", "" for root) against the rootfs.
 * "uid:gid" with both numeric (or "root") never reads any file; a user found by name or id
 * gets the supplementary groups that list it by name, unless a group is given explicitly.
 * `additionalGids` starts with the primary gid. Throws KilnError (kind 'build') with
 * BuildKit's text for unknown users or groups. Read-only; safe concurrently.
 */
export async function resolveUser(rootfs: string, user: string): Promise<ResolvedUser> {
  const isDefault = user === '';
  const spec = isDefault ? '0' : user;
  const withPrimary = (uid: number, gid: number, sgids: number[]): ResolvedUser => ({
    uid,
    gid,
    additionalGids: sgids.includes(gid) ? sgids : [gid, ...sgids],
  });

  const colon = spec.indexOf(':');
  if (colon >= 0) {
    const uid = parseUid(spec.slice(0, colon));
    const gid = parseUid(spec.slice(colon + 1));
    if (uid !== null && gid !== null) return withPrimary(uid, gid, []);
  }

  const passwd = await readUserFile(rootfs, '/etc/passwd');
  const group = await readUserFile(rootfs, '/etc/group');
  try {
    const u = execUser(spec, passwd, group);
    return withPrimary(u.uid, u.gid, u.sgids);
  } catch (err) {
    if (isDefault) return withPrimary(0, 0, []);
    throw err;
  }
}
