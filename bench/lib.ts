/** Small timing helpers for the benches: wall time of commands, medians, floors. */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Runs a command `n` times; returns each wall time in ms. Throws on failure. */
export function timeCommand(cmd: string, args: string[], n: number, env: Record<string, string> = {}): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const r = spawnSync(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    out.push(performance.now() - t);
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  }
  return out;
}

/** sha256 of every file under `dir` (read + hash), in ms: the floor of content-checking a context. */
export function hashTreeMs(dir: string): { ms: number; bytes: number } {
  const t = performance.now();
  let bytes = 0;
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = lstatSync(p);
      if (st.isDirectory()) walk(p);
      else if (st.isFile()) {
        const b = readFileSync(p);
        bytes += b.length;
        createHash('sha256').update(b).digest();
      }
    }
  };
  walk(dir);
  return { ms: performance.now() - t, bytes };
}

export function fmt(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`;
}

export function row(name: string, value: number, floorName: string, floor: number): string {
  return `${name.padEnd(38)} ${fmt(value).padStart(10)}   floor (${floorName}) ${fmt(floor).padStart(9)}   ×${(value / floor).toFixed(1)}`;
}

/**
 * A fresh journaled ext4 on a loop device, mounted at a new temp dir: file-heavy scenarios
 * run there (the root file system here has no journal and slows down after mass deletes).
 * Falls back to a plain temp dir when mounting is not possible.
 */
export function freshExt4(sizeMiB: number, tmp: string): { dir: string; cleanup(): void } {
  const img = join(tmp, 'ext4.img');
  const dir = join(tmp, 'ext4');
  const ok =
    spawnSync('truncate', ['-s', `${sizeMiB}M`, img]).status === 0 &&
    spawnSync('mkfs.ext4', ['-q', '-F', '-O', 'has_journal', img]).status === 0 &&
    spawnSync('mkdir', ['-p', dir]).status === 0 &&
    spawnSync('mount', ['-o', 'loop', img, dir]).status === 0;
  if (!ok) {
    spawnSync('mkdir', ['-p', dir]);
    return { dir, cleanup: () => {} };
  }
  return {
    dir,
    cleanup: () => {
      spawnSync('umount', ['-l', dir]);
    },
  };
}

/** A Docker engine with BuildKit to compare against, when one answers (never required). */
export function dockerAvailable(docker: string): boolean {
  if (!process.env.DOCKER_HOST && !existsSync('/var/run/docker.sock')) return false;
  return spawnSync(docker, ['version', '--format', '{{.Server.Version}}'], { stdio: 'ignore' }).status === 0;
}

/**
 * The OCI runtime's own cost: `runc run` of `busybox true` in a bare bundle, one alone and four
 * at once (medians of 5). Undefined when runc or busybox is missing.
 */
export function runtimeStartFloor(tmp: string): { one: number; four: number } | undefined {
  const busybox = ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p));
  if (!busybox || spawnSync('runc', ['--version']).status !== 0) return undefined;
  const bundle = join(tmp, 'runc-floor');
  mkdirSync(join(bundle, 'rootfs'), { recursive: true });
  copyFileSync(busybox, join(bundle, 'rootfs', 'busybox'));
  spawnSync('runc', ['spec'], { cwd: bundle });
  const spec = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
  spec.process.terminal = false;
  spec.process.args = ['/busybox', 'true'];
  writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec));
  const root = join(tmp, 'runc-floor-state');
  const script = (n: number) => `cd ${bundle}; for i in $(seq ${n}); do runc --root ${root} run floor-$$-$i & done; wait`;
  return { one: median(timeCommand('bash', ['-c', script(1)], 5)), four: median(timeCommand('bash', ['-c', script(4)], 5)) };
}
