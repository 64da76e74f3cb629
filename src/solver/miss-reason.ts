import { canonicalJson } from '../llb/encode.ts';

/** The material a vertex's cache key is made of (what solve.ts hashes). */
export interface KeyFacts {
  op: unknown;
  platform?: unknown;
  /** Per input: its display name and key (`content:` keys are file checksums). */
  inputs: { name: string; key: string }[];
  parts?: unknown;
}

const same = (a: unknown, b: unknown) => canonicalJson(a ?? null) === canonicalJson(b ?? null);
const short = (s: string, n = 60) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
const show = (v: unknown) => (v === undefined ? '(unset)' : typeof v === 'string' ? JSON.stringify(short(v)) : short(canonicalJson(v)));

function envDiff(a: string[], b: string[]): string | undefined {
  const map = (l: string[]) => new Map(l.map((e) => [e.split('=', 1)[0]!, e.slice(e.indexOf('=') + 1)]));
  const ma = map(a);
  const mb = map(b);
  for (const k of new Set([...ma.keys(), ...mb.keys()])) {
    if (ma.get(k) !== mb.get(k)) return `env ${k}: ${show(ma.get(k))} → ${show(mb.get(k))}`;
  }
  return undefined;
}

/** The first field that differs between two op bodies, said for people. */
function opChange(prev: Record<string, unknown>, cur: Record<string, unknown>): string {
  if (prev.type === 'source' && cur.type === 'source') {
    const a = String(prev.identifier);
    const b = String(cur.identifier);
    const name = (id: string) => id.replace(/^[a-z-]+:\/\//, '').replace(/@sha256:.*/, '');
    if (a.startsWith('docker-image://') && name(a) === name(b)) return `base image ${name(b)} changed digest`;
    if (a !== b) return `source changed: ${short(a)} → ${short(b)}`;
  }
  if (prev.type === 'exec' && cur.type === 'exec') {
    const pm = prev.meta as Record<string, unknown>;
    const cm = cur.meta as Record<string, unknown>;
    const env = envDiff((pm.env as string[]) ?? [], (cm.env as string[]) ?? []);
    if (env) return env;
    if (!same(pm.args, cm.args)) return `command: ${show((pm.args as string[]).join(' '))} → ${show((cm.args as string[]).join(' '))}`;
    for (const k of ['cwd', 'user', 'hostname']) if (!same(pm[k], cm[k])) return `${k}: ${show(pm[k])} → ${show(cm[k])}`;
  }
  if (prev.type === 'file' && cur.type === 'file') {
    const pa = prev.actions as { action: Record<string, unknown> }[];
    const ca = cur.actions as { action: Record<string, unknown> }[];
    for (let i = 0; i < Math.max(pa.length, ca.length); i++) {
      const a = pa[i]?.action ?? {};
      const b = ca[i]?.action ?? {};
      for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
        if (!same(a[k], b[k])) return `${b.type ?? a.type} ${k}: ${show(a[k])} → ${show(b[k])}`;
      }
    }
  }
  for (const k of new Set([...Object.keys(prev), ...Object.keys(cur)])) {
    if (!same(prev[k], cur[k])) return `${k} changed`;
  }
  return 'the step changed';
}

/**
 * Why a vertex missed the cache: the first input or field that differs from the closest
 * earlier build of the same step, or that there was none.
 */
export function missReason(prev: KeyFacts | undefined, cur: KeyFacts): string {
  if (!prev) return 'no earlier build of this step';
  if (!same(prev.op, cur.op)) return opChange(prev.op as Record<string, unknown>, cur.op as Record<string, unknown>);
  if (!same(prev.platform, cur.platform)) return `platform: ${show(prev.platform)} → ${show(cur.platform)}`;
  if (!same(prev.parts, cur.parts)) {
    const op = cur.op as { type?: string; identifier?: string };
    if (op.identifier?.startsWith('local://')) return `files in ${op.identifier.slice(8)} changed`;
    return 'its source content changed';
  }
  for (let i = 0; i < Math.max(prev.inputs.length, cur.inputs.length); i++) {
    const a = prev.inputs[i];
    const b = cur.inputs[i];
    if (a?.key === b?.key) continue;
    if (b?.key.startsWith('content:')) return `files copied from ${b.name} changed`;
    return `input changed: ${b?.name ?? 'removed'}`;
  }
  return 'the step changed';
}

/** A step's identity across builds: its build-file position prefix (`[stage 2/5]`), else its name. */
export function stepIdent(name: string, file?: string): string {
  const prefix = /^\[[^\]]*\]/.exec(name)?.[0] ?? name;
  return file ? `${file} ${prefix}` : prefix;
}
