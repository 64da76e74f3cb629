import type { NetworkLimits, RegistryTls } from './config.ts';
import type { SshSource } from '../executor/ssh/agent-socket.ts';
import type { Platform } from '../llb/types.ts';
import type { GcPolicy } from '../store/gc.ts';

/** One output of a build (`-o type=oci,dest=out.tar`), attributes validated by the exporter. */
export interface OutputSpec {
  type: string;
  attrs: Record<string, string>;
  /** How error messages name it (default `output type=TYPE`). */
  label?: string;
}

/** Everything a build needs, whichever flag style produced it. */
export interface BuildRequest {
  root: string;
  frontend: string;
  /** Named local directories: `context`, `dockerfile`, named contexts. */
  locals: Record<string, string>;
  filename: string;
  buildArgs: Record<string, string>;
  labels: Record<string, string>;
  target?: string;
  platforms: Platform[];
  tags: string[];
  outputs: OutputSpec[];
  /** `--cache-from` / `--import-cache`: caches to import (type=registry|local). */
  cacheImports: OutputSpec[];
  /** `--cache-to` / `--export-cache` (and BUILDKIT_INLINE_CACHE=1): caches to export (type=registry|local|inline). */
  cacheExports: OutputSpec[];
  progress: 'auto' | 'plain' | 'tty' | 'rawjson' | 'quiet' | 'none';
  network: 'host' | 'none';
  noCache: boolean;
  /** `--pull`: image tags always from the registry, never the local image store. */
  pull: boolean;
  /** Registry mirrors and plain-http hosts (config file). */
  registry: { insecureHosts: string[]; mirrors: Record<string, string[]>; tls?: Record<string, RegistryTls>; network?: NetworkLimits };
  /** Named contexts from OCI layouts: imported into the content store before the frontend runs. */
  ociLayouts: { name: string; dir: string; ref: string }[];
  runtime?: string;
  /** RUN steps at once; 0: no limit (BuildKit's default). */
  maxParallelism: number;
  /** GC after the build (the config file's policies), or undefined when GC is off. */
  gc?: GcPolicy[];
  opts: Record<string, string>;
  iidfile?: string;
  /** `--metadata-file`: BuildKit's result keys (containerimage.digest, ...) as JSON. */
  metadataFile?: string;
  /** Frontend names from the config file's [frontend."NAME"]: name → module path. */
  frontends?: Record<string, string>;
  /** `--attest type=provenance` / `--provenance`: SLSA provenance attached to the outputs. */
  provenance?: { mode: 'min' | 'max'; builderId?: string };
  /** `--load`: the image also goes into `docker load` (a docker CLI on PATH). */
  load?: boolean;
  /** `--secret` values by id: in memory only. */
  secrets: Map<string, Uint8Array>;
  /** `--ssh` agents by id: sockets forwarded read-only, or keys held in memory. */
  ssh: Map<string, SshSource>;
  /** `--allow`: entitlements granted (network.host, security.insecure). */
  allow: Set<string>;
  /** Temp dirs made for this request (e.g. a Dockerfile read from stdin); removed after the build. */
  tempDirs: string[];
}
