import { readFile, statfs } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import * as v from 'valibot';
import { KilnError, usageError } from '../util/errors.ts';
import { parseDuration, parseSize } from '../util/units.ts';
import type { GcItemType, GcPolicy } from '../store/gc.ts';
import { nearest } from './unknown-option.ts';
import { DEFAULT_STALL_LIMITS, type StallLimits } from '../util/stall.ts';

/**
 * kiln's config file (TOML), the counterpart of buildkitd.toml:
 *
 *   root = "/var/lib/kiln"          # state dir (--root and KILN_ROOT win)
 *   max-parallelism = 4             # RUN steps at once (--max-parallelism wins)
 *   runtime = "runc"                # or "crun" (--runtime wins)
 *   [registry."docker.io"]
 *   mirrors = ["mirror.internal:5000"]   # asked first, in order; the registry itself last
 *   [registry."registry.internal:5000"]
 *   http = true                     # plain http (localhost and 127.0.0.1 always are)
 *   [network]                       # every registry, git and http transfer
 *   idle-timeout = "30s"            # no byte moved for this long: stalled (retried, then an error)
 *   low-speed-limit = "10KB"        # slower than this per second ...
 *   low-speed-time = "30s"          # ... on average over this long: stalled ("0" turns it off)
 *   attempts = 4                    # tries per request, the first included
 *   [gc]
 *   enabled = true                  # GC after every build
 *   reserved-space = "10GB"         # defaults as BuildKit: 10% of the disk, at most 10GB
 *   max-used-space = "100GB"        # 80% of the disk, at most 100GB
 *   min-free-space = "20%"          # 20% of the disk
 *   [[gc.policy]]                   # replaces the default policies (BuildKit's, see below)
 *   keep-duration = "48h"
 *   filters = ["type==exec.cachemount"]
 *   max-used-space = "512MB"
 *
 * Found at `--config FILE`, else `$KILN_CONFIG`, else `/etc/kiln/kiln.toml` (root) or
 * `$XDG_CONFIG_HOME/kiln/kiln.toml`; a missing default file means all defaults.
 */
const Space = v.union([v.string(), v.pipe(v.number(), v.integer(), v.minValue(0))]);
const PolicySchema = v.strictObject({
  'keep-duration': v.optional(v.union([v.string(), v.pipe(v.number(), v.minValue(0))])),
  filters: v.optional(v.array(v.string())),
  all: v.optional(v.boolean()),
  'reserved-space': v.optional(Space),
  'max-used-space': v.optional(Space),
  'min-free-space': v.optional(Space),
});
const ConfigSchema = v.strictObject({
  root: v.optional(v.string()),
  'max-parallelism': v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
  runtime: v.optional(v.picklist(['runc', 'crun'])),
  /**
   * Per registry host, as buildkitd.toml's [registry."host"]: mirrors, plain http, and TLS (ca
   * files to trust, client key pairs, `insecure` to skip verification).
   */
  registry: v.optional(
    v.record(
      v.string(),
      v.strictObject({
        mirrors: v.optional(v.array(v.string())),
        http: v.optional(v.boolean()),
        insecure: v.optional(v.boolean()),
        ca: v.optional(v.array(v.string())),
        keypair: v.optional(v.array(v.strictObject({ key: v.string(), cert: v.string() }))),
      }),
    ),
  ),
  network: v.optional(
    v.strictObject({
      'idle-timeout': v.optional(v.union([v.string(), v.pipe(v.number(), v.minValue(0))])),
      'low-speed-limit': v.optional(Space),
      'low-speed-time': v.optional(v.union([v.string(), v.pipe(v.number(), v.minValue(0))])),
      attempts: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(100))),
    }),
  ),
  /** Frontend plugins by name (`--frontend NAME`, `# syntax=NAME`): [frontend."NAME"] path = "/abs/plugin.ts". */
  frontend: v.optional(v.record(v.string(), v.strictObject({ path: v.string() }))),
  gc: v.optional(
    v.strictObject({
      enabled: v.optional(v.boolean()),
      'reserved-space': v.optional(Space),
      'max-used-space': v.optional(Space),
      'min-free-space': v.optional(Space),
      policy: v.optional(v.array(PolicySchema)),
    }),
  ),
});
export type KilnConfig = v.InferOutput<typeof ConfigSchema>;
type PolicyConfig = v.InferOutput<typeof PolicySchema>;

const KEYS = ['network', 'idle-timeout', 'low-speed-limit', 'low-speed-time', 'attempts', 'frontend', 'path', 'root', 'max-parallelism', 'runtime', 'registry', 'mirrors', 'http', 'insecure', 'ca', 'keypair', 'key', 'cert', 'gc', 'enabled', 'reserved-space', 'max-used-space', 'min-free-space', 'policy', 'keep-duration', 'filters', 'all'];

export function defaultConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  if (process.getuid?.() === 0) return '/etc/kiln/kiln.toml';
  return join(env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config'), 'kiln', 'kiln.toml');
}

/** Reads and checks the config file; errors name the file and the key. */
export async function loadConfig(flag?: string, env: NodeJS.ProcessEnv = process.env): Promise<KilnConfig> {
  const path = flag ?? env.KILN_CONFIG ?? defaultConfigPath(env);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !flag && !env.KILN_CONFIG) return {};
    throw new KilnError(`cannot read config file ${path}: ${(err as Error).message}`, { kind: 'usage' });
  }
  let raw: unknown;
  try {
    raw = parseToml(text);
  } catch (err) {
    throw new KilnError(`${path}: ${(err as Error).message.split('\n')[0]}`, { kind: 'usage' });
  }
  const r = v.safeParse(ConfigSchema, raw);
  if (!r.success) {
    const issue = r.issues[0];
    const where = v.getDotPath(issue) ?? '';
    const key = where.split('.').pop() ?? '';
    const near = issue.kind === 'schema' && issue.type === 'strict_object' ? nearest(key, KEYS) : undefined;
    throw new KilnError(`${path}: ${where ? `${where}: ` : ''}${issue.message}${near ? ` (did you mean ${near}?)` : ''}`, { kind: 'usage' });
  }
  return r.output;
}

/** `"20%"` of the disk, `"10GB"`, or a number of bytes. */
function spaceBytes(s: string | number | undefined, diskBytes: number): number | undefined {
  if (s === undefined) return undefined;
  if (typeof s === 'number') return s;
  const pct = /^(\d+(?:\.\d+)?)%$/.exec(s.trim());
  return pct ? Math.round((Number(pct[1]) / 100) * diskBytes) : parseSize(s);
}

function durationMs(d: string | number | undefined): number | undefined {
  if (d === undefined) return undefined;
  return typeof d === 'number' ? d * 1000 : parseDuration(d);
}

function filterTypes(filters: string[] | undefined): GcItemType[] | undefined {
  if (!filters?.length) return undefined;
  return filters.map((f) => {
    const m = /^type==(.+)$/.exec(f.trim());
    if (m?.[1] === 'exec.cachemount' || m?.[1] === 'regular') return m[1];
    throw new KilnError(`gc policy filter "${f}": kiln knows type==exec.cachemount and type==regular`, { kind: 'usage' });
  });
}

/**
 * The GC policies for a disk of `diskBytes`: the configured ones, else BuildKit's defaults
 * (DefaultGCPolicy): cache mounts unused for 48h beyond 512MB; anything unused for 60 days;
 * then least recently used until under the cap. (BuildKit's first rule also covers local
 * and git sources; kiln keeps neither outside the build cache.)
 */
export function gcPolicies(cfg: KilnConfig, diskBytes: number): GcPolicy[] {
  const gc = cfg.gc ?? {};
  const reserved = spaceBytes(gc['reserved-space'], diskBytes) ?? Math.min(0.1 * diskBytes, 10e9);
  const maxUsed = spaceBytes(gc['max-used-space'], diskBytes) ?? Math.min(0.8 * diskBytes, 100e9);
  const minFree = spaceBytes(gc['min-free-space'], diskBytes) ?? 0.2 * diskBytes;
  if (gc.policy?.length) {
    return gc.policy.map((p: PolicyConfig) => ({
      types: filterTypes(p.filters),
      keepDurationMs: durationMs(p['keep-duration']),
      reservedBytes: spaceBytes(p['reserved-space'], diskBytes),
      maxUsedBytes: spaceBytes(p['max-used-space'], diskBytes),
      minFreeBytes: spaceBytes(p['min-free-space'], diskBytes),
    }));
  }
  const caps = { reservedBytes: reserved, maxUsedBytes: maxUsed, minFreeBytes: minFree };
  return [
    { types: ['exec.cachemount'], keepDurationMs: 48 * 3.6e6, maxUsedBytes: 512e6 },
    { keepDurationMs: 60 * 8.64e7, ...caps },
    { ...caps },
  ];
}

/** Size and free bytes of the file system holding `dir` (or, before it exists, its nearest ancestor). */
export async function diskOf(dir: string): Promise<{ total: number; free: number }> {
  for (let d = resolve(dir); ; d = dirname(d)) {
    const s = await statfs(d).catch(() => undefined);
    if (s) return { total: s.blocks * s.bsize, free: s.bavail * s.bsize };
    if (d === dirname(d)) return { total: 0, free: 0 };
  }
}


/** TLS settings of one registry host, files read (PEM text). */
export interface RegistryTls {
  ca?: string[];
  cert?: string;
  key?: string;
  insecure: boolean;
}

/** How network transfers count as stalled, and how often they are tried: the config's [network]. */
export interface NetworkLimits extends StallLimits {
  attempts: number;
}

/** The longest [network] duration: a day (a timer past 2^31 ms would fire at once). */
const MAX_NETWORK_MS = 86_400_000;

export function networkLimits(cfg: KilnConfig): NetworkLimits {
  const n = cfg.network ?? {};
  const ms = (x: string | number | undefined, d: number) => {
    const v = durationMs(x);
    if (v !== undefined && !(v > 0 && v <= MAX_NETWORK_MS)) throw usageError('config: [network] durations must be greater than 0 and at most 24h (low-speed-limit = 0 turns the speed floor off)');
    return v ?? d;
  };
  const speed = n['low-speed-limit'] === undefined ? DEFAULT_STALL_LIMITS.lowSpeedBytesPerSec : typeof n['low-speed-limit'] === 'number' ? n['low-speed-limit'] : parseSize(n['low-speed-limit']);
  return {
    idleMs: ms(n['idle-timeout'], DEFAULT_STALL_LIMITS.idleMs),
    lowSpeedBytesPerSec: speed,
    lowSpeedWindowMs: ms(n['low-speed-time'], DEFAULT_STALL_LIMITS.lowSpeedWindowMs),
    attempts: n.attempts ?? 4,
  };
}

/** The registry client's options from the config file: mirrors, plain-http hosts, TLS settings, network limits. */
export function registryOptions(cfg: KilnConfig): { insecureHosts: string[]; mirrors: Record<string, string[]>; tls: Record<string, RegistryTls>; network: NetworkLimits } {
  const insecureHosts: string[] = [];
  const mirrors: Record<string, string[]> = {};
  const tls: Record<string, RegistryTls> = {};
  const read = (host: string, what: string, path: string) => {
    try {
      return readFileSync(path, 'utf8');
    } catch (err) {
      throw usageError(`config: registry "${host}": cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  };
  for (const [host, r] of Object.entries(cfg.registry ?? {})) {
    if (r.http) insecureHosts.push(host);
    if (r.mirrors?.length) mirrors[host] = r.mirrors;
    if (r.ca?.length || r.keypair?.length || r.insecure) {
      const pair = r.keypair?.[0];
      tls[host] = {
        ca: r.ca?.length ? r.ca.map((p) => read(host, 'ca', p)) : undefined,
        cert: pair ? read(host, 'cert', pair.cert) : undefined,
        key: pair ? read(host, 'key', pair.key) : undefined,
        insecure: !!r.insecure,
      };
    }
  }
  return { insecureHosts, mirrors, tls, network: networkLimits(cfg) };
}
