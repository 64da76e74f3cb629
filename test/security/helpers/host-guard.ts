/**
 * The host, checked after a hostile input: a canary directory that the hostile inputs aim at
 * (by its absolute path), /etc/shadow and /etc/passwd (link count, content, time), and the
 * names in /, /etc and the canary directory (nothing new appears). `problems()` lists what
 * changed, in words; an empty list is a host left as it was.
 */
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { mkdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect } from 'bun:test';
import { makeTempDir, removeAll } from '../../../src/util/fs.ts';

export interface HostGuard {
  /** The canary directory (absolute): hostile symlinks point here. */
  dir: string;
  /** A file in it with known content. */
  secret: string;
  /** The secret file's content: it must appear in no output. */
  secretText: string;
  problems(): string[];
  cleanup(): Promise<void>;
}

const WATCHED = ['/etc/shadow', '/etc/passwd'];

function fingerprint(path: string): string {
  const st = lstatSync(path, { throwIfNoEntry: false });
  if (!st) return 'missing';
  const kind = st.isSymbolicLink() ? `link:${readlinkSync(path)}` : st.isDirectory() ? 'dir' : st.isFile() ? `file:${createHash('sha256').update(readFileSync(path)).digest('hex').slice(0, 16)}` : 'other';
  return `${kind} nlink=${st.nlink} mode=${(st.mode & 0o7777).toString(8)} uid=${st.uid} mtime=${st.mtimeMs}`;
}

function tree(dir: string, out = new Map<string, string>()): Map<string, string> {
  out.set(dir, fingerprint(dir));
  for (const n of readdirSync(dir)) {
    const p = join(dir, n);
    const st = lstatSync(p);
    if (st.isDirectory()) tree(p, out);
    else out.set(p, fingerprint(p));
  }
  return out;
}

const names = (dir: string) => readdirSync(dir).sort().join('\n');

export async function hostGuard(): Promise<HostGuard> {
  const dir = await makeTempDir('kiln-canary-');
  const secret = join(dir, 'secret');
  const secretText = `canary-${Math.random().toString(16).slice(2)}-do-not-copy`;
  await writeFile(secret, `${secretText}\n`, { mode: 0o600 });
  await mkdir(join(dir, 'sub'));
  await writeFile(join(dir, 'sub', 'file'), 'sub file\n');
  const past = new Date(1_500_000_000_000);
  for (const p of [join(dir, 'sub', 'file'), join(dir, 'sub'), secret, dir]) await utimes(p, past, past);
  const before = { tree: tree(dir), watched: WATCHED.map(fingerprint), root: names('/'), etc: names('/etc') };
  return {
    dir,
    secret,
    secretText,
    problems() {
      const out: string[] = [];
      const now = tree(dir);
      for (const [p, f] of now) if (before.tree.get(p) !== f) out.push(`${p}: ${before.tree.get(p) ?? 'absent'} -> ${f}`);
      for (const p of before.tree.keys()) if (!now.has(p)) out.push(`${p}: removed`);
      WATCHED.forEach((p, i) => {
        const f = fingerprint(p);
        if (f !== before.watched[i]) out.push(`${p}: ${before.watched[i]} -> ${f}`);
      });
      if (names('/') !== before.root) out.push(`/ changed: ${names('/').split('\n').filter((n) => !before.root.split('\n').includes(n)).join(', ')}`);
      if (names('/etc') !== before.etc) out.push(`/etc changed: ${names('/etc').split('\n').filter((n) => !before.etc.split('\n').includes(n)).join(', ')}`);
      return out;
    },
    cleanup: () => removeAll(dir),
  };
}

/**
 * A host guard made before the file's tests and removed after them, checked after every test
 * (the host must be as it was); read `.guard` inside tests.
 */
export function useHostGuard(): { guard: HostGuard } {
  const box = {} as { guard: HostGuard };
  beforeAll(async () => {
    box.guard = await hostGuard();
  });
  afterEach(() => {
    expect(box.guard.problems()).toEqual([]);
  });
  afterAll(async () => {
    await box.guard?.cleanup();
  });
  return box;
}
