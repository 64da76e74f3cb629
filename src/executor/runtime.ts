/**
 * Finding and driving the OCI runtime binary (runc or crun; both take the same flags).
 */
import { spawn } from 'node:child_process';
import { access, constants, readFile } from 'node:fs/promises';
import { basename, isAbsolute, join } from 'node:path';
import { KilnError } from '../util/errors.ts';

const KNOWN = ['runc', 'crun'];
const EXTRA_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

export interface Runtime { name: string; path: string }

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Locates the runtime: 'runc' (default) or 'crun' on PATH (and the usual sbin dirs), or an
 * absolute path. Throws a KilnError with an install hint when it is missing.
 */
export async function findRuntime(name = 'runc', searchDirs?: string[]): Promise<Runtime> {
  if (isAbsolute(name)) {
    if (await isExecutable(name)) return { name: basename(name), path: name };
    throw new KilnError(`OCI runtime ${name} not found or not executable`, {
      kind: 'runtime',
      hint: 'pass the absolute path of an installed runc or crun binary',
    });
  }
  if (!KNOWN.includes(name)) {
    throw new KilnError(`unknown OCI runtime "${name}"`, {
      kind: 'usage',
      hint: 'use runc, crun, or an absolute path to an OCI runtime binary',
    });
  }
  const dirs = searchDirs ?? [...(process.env.PATH ?? '').split(':').filter((d) => d !== ''), ...EXTRA_DIRS];
  for (const dir of new Set(dirs)) {
    const p = join(dir, name);
    if (await isExecutable(p)) return { name, path: p };
  }
  throw new KilnError(`OCI runtime ${name} not found in PATH`, {
    kind: 'runtime',
    hint: `install it (Debian/Ubuntu: apt-get install ${name}; Fedora: dnf install ${name}) or choose another runtime`,
  });
}

/** Runs a short runtime command (kill, delete, list) to completion; never throws for a non-zero exit. */
export function runtimeCommand(rt: Runtime, root: string, args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(rt.path, ['--root', root, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => {
      if (stderr.length < 64 * 1024) stderr += d;
    });
    child.on('error', (err) => resolve({ code: -1, stderr: String(err) }));
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : -1), stderr }));
  });
}

/**
 * The error messages the runtime wrote to its --log file (JSON lines, levels error/fatal).
 * An empty list means the runtime did not fail itself.
 */
export async function readRuntimeErrors(logFile: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(logFile, 'utf8');
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const e = JSON.parse(line) as { level?: string; msg?: string };
      if ((e.level === 'error' || e.level === 'fatal') && e.msg) out.push(e.msg);
    } catch {
      out.push(line.trim());
    }
  }
  return out;
}
