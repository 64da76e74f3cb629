/**
 * Platforms (`os/arch[/variant]`) with containerd's normalization and BuildKit's default
 * matching: a platform also accepts images for the older CPUs it can run (arm64 runs
 * arm/v8..v5, arm/v7 runs v6 and v5, amd64/v3 runs v2 and v1, amd64 runs 386).
 */
import process from 'node:process';
import { KilnError } from '../util/errors.ts';
import { hostArch } from '../util/host-arch.ts';

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
  'os.version'?: string;
  'os.features'?: string[];
}

const KNOWN_OS = new Set([
  'aix', 'android', 'darwin', 'dragonfly', 'freebsd', 'illumos', 'ios', 'js', 'linux', 'netbsd',
  'openbsd', 'plan9', 'solaris', 'wasip1', 'windows',
]);

/** The platform of the running process, as BuildKit reports it (arm64 carries variant v8). */
export function hostPlatform(): Platform {
  const os = process.platform === 'win32' ? 'windows' : process.platform;
  const a = hostArch();
  return a.variant ? { os, architecture: a.architecture, variant: a.variant } : { os, architecture: a.architecture };
}

function normalizeOs(os: string): string {
  const o = os.toLowerCase();
  return o === 'macos' ? 'darwin' : o;
}

function normalizeArch(arch: string, variant: string): { architecture: string; variant: string } {
  const a = arch.toLowerCase();
  const v = variant.toLowerCase();
  switch (a) {
    case 'i386':
      return { architecture: '386', variant: '' };
    case 'x86_64':
    case 'x86-64':
    case 'amd64':
      return { architecture: 'amd64', variant: v === 'v1' ? '' : v };
    case 'aarch64':
    case 'arm64':
      if (v === '8' || v === 'v8' || v === 'v8.0') return { architecture: 'arm64', variant: '' };
      if (v === '9' || v === 'v9' || v === 'v9.0') return { architecture: 'arm64', variant: 'v9' };
      return { architecture: 'arm64', variant: v };
    case 'armhf':
      return { architecture: 'arm', variant: 'v7' };
    case 'armel':
      return { architecture: 'arm', variant: 'v6' };
    case 'arm':
      if (v === '' || v === '7') return { architecture: 'arm', variant: 'v7' };
      if (/^[5-8]$/.test(v)) return { architecture: 'arm', variant: `v${v}` };
      return { architecture: 'arm', variant: v };
    default:
      return { architecture: a, variant: v };
  }
}

/**
 * containerd's normalization: lowercase, aliases resolved (`x86_64` → amd64, `aarch64` →
 * arm64, `armhf` → arm/v7), default variants dropped (arm64/v8, amd64/v1) or filled in
 * (arm → arm/v7). The result has `variant` only when it is non-empty. Pure and idempotent.
 */
export function normalizePlatform(p: Platform): Platform {
  const { architecture, variant } = normalizeArch(p.architecture, p.variant ?? '');
  const out: Platform = { os: normalizeOs(p.os), architecture };
  if (variant) out.variant = variant;
  if (p['os.version']) out['os.version'] = p['os.version'];
  if (p['os.features']?.length) out['os.features'] = [...p['os.features']];
  return out;
}

const SPEC_PART = /^[A-Za-z0-9_.-]+$/;

/**
 * Parses `os/arch[/variant]`, `os` alone (host architecture), `arch` alone (linux) or
 * `local` (the host). The result is normalized. Throws a usage KilnError on bad input.
 */
export function parsePlatform(spec: string): Platform {
  const s = spec.trim();
  if (s === 'local') return normalizePlatform(hostPlatform());
  const parts = s.split('/');
  if (!s || parts.length > 3 || parts.some((x) => !SPEC_PART.test(x))) {
    throw new KilnError(`invalid platform ${JSON.stringify(spec)}: want os/arch[/variant], e.g. linux/amd64 or linux/arm/v7`, {
      kind: 'usage',
    });
  }
  if (parts.length === 1) {
    const one = parts[0]!.toLowerCase();
    if (KNOWN_OS.has(normalizeOs(one))) return normalizePlatform({ ...hostPlatform(), os: one });
    return normalizePlatform({ os: 'linux', architecture: one });
  }
  const [os, architecture, variant] = parts as [string, string, string | undefined];
  return normalizePlatform(variant ? { os, architecture, variant } : { os, architecture });
}

/** `os/arch[/variant]` of the normalized platform. */
export function formatPlatform(p: Platform): string {
  const n = normalizePlatform(p);
  return n.variant ? `${n.os}/${n.architecture}/${n.variant}` : `${n.os}/${n.architecture}`;
}

/** Same normalized os, architecture and variant. */
export function platformEquals(a: Platform, b: Platform): boolean {
  const x = normalizePlatform(a);
  const y = normalizePlatform(b);
  return x.os === y.os && x.architecture === y.architecture && (x.variant ?? '') === (y.variant ?? '');
}

/**
 * The platforms that `want` can run, best first (containerd's `platforms.Only` vector):
 * the platform itself, then older variants, then 32-bit companions.
 */
export function compatiblePlatforms(want: Platform): Platform[] {
  const p = normalizePlatform(want);
  const out: Platform[] = [p];
  const variantNum = (v: string | undefined, prefix = 'v') => (v && v.startsWith(prefix) ? Number(v.slice(prefix.length)) : NaN);
  if (p.architecture === 'amd64') {
    const n = variantNum(p.variant);
    if (Number.isInteger(n)) for (let i = n - 1; i >= 1; i--) out.push(normalizePlatform({ os: p.os, architecture: 'amd64', variant: `v${i}` }));
    out.push({ os: p.os, architecture: '386' });
  } else if (p.architecture === 'arm64') {
    // arm64 without a variant is v8; v9 and later can still run arm64/v8 images.
    const n = p.variant ? variantNum(p.variant) : 8;
    if (Number.isInteger(n) && n > 8) for (let i = n - 1; i >= 8; i--) out.push(normalizePlatform({ os: p.os, architecture: 'arm64', variant: `v${i}` }));
    for (let i = 8; i >= 5; i--) out.push({ os: p.os, architecture: 'arm', variant: `v${i}` });
  } else if (p.architecture === 'arm') {
    const n = variantNum(p.variant);
    if (Number.isInteger(n)) for (let i = n - 1; i >= 5; i--) out.push({ os: p.os, architecture: 'arm', variant: `v${i}` });
  }
  return out;
}

/**
 * How well `candidate` suits `want`: 0 for an exact match, larger for older compatible
 * variants, -1 when `want` cannot run it. Use it to pick the best of several manifests.
 */
export function platformRank(want: Platform, candidate: Platform): number {
  return compatiblePlatforms(want).findIndex((c) => platformEquals(c, candidate));
}

/** BuildKit/containerd default matching: can a `want` machine run a `candidate` image? */
export function platformMatches(want: Platform, candidate: Platform): boolean {
  return platformRank(want, candidate) >= 0;
}
