/**
 * The frontend contract (version 1). A frontend turns build files into LLB: it reads its
 * named inputs, may resolve image configs, and returns a definition plus the image config to
 * attach. The built-in `dockerfile.v0` is written against exactly this module and imports
 * nothing else of kiln (scripts/check-imports.ts enforces it); so can anyone. This file
 * imports nothing but the LLB builder and plain helpers, which it re-exports.
 */
import * as llb from '../llb/index.ts';
import type { Definition, Platform } from '../llb/types.ts';

export const FRONTEND_API_VERSION = 1;

/** The OCI image config a frontend produces (the JSON shape of the OCI image spec). */
export interface ImageConfigFile {
  created?: string;
  author?: string;
  architecture: string;
  os: string;
  variant?: string;
  config: {
    User?: string;
    ExposedPorts?: Record<string, object>;
    Env?: string[];
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    Volumes?: Record<string, object>;
    WorkingDir?: string;
    Labels?: Record<string, string>;
    StopSignal?: string;
    ArgsEscaped?: boolean;
    Healthcheck?: { Test?: string[]; Interval?: number; Timeout?: number; StartPeriod?: number; StartInterval?: number; Retries?: number };
    OnBuild?: string[] | null;
    Shell?: string[];
  };
  rootfs: { type: 'layers'; diff_ids: string[] };
  history?: { created?: string; created_by?: string; author?: string; comment?: string; empty_layer?: boolean }[];
}

export interface FrontendOptions {
  /** `--build-arg K=V` (and `--opt build-arg:K=V`). */
  buildArgs: Record<string, string>;
  target?: string;
  /** Target platforms; at least one (the host's by default). */
  platforms: Platform[];
  /** The platform kiln runs on. */
  buildPlatform: Platform;
  labels: Record<string, string>;
  /** Every `--opt k=v`, raw. */
  raw: Record<string, string>;
  /** Name of the build file inside the `dockerfile` input (default `Dockerfile`). */
  filename: string;
  noCache: boolean;
}

/** Read access to a named local input (`context`, `dockerfile`, named contexts). */
export interface FrontendInputs {
  /** Names of the local inputs of this build. */
  names(): string[];
  readFile(input: string, path: string): Promise<Uint8Array>;
  /** undefined when the path does not exist. */
  stat(input: string, path: string): Promise<{ isDirectory: boolean; size: number } | undefined>;
}

export interface ResolvedImageConfig {
  /** The reference pinned to its manifest digest (`name:tag@sha256:...`). */
  ref: string;
  digest: string;
  config: ImageConfigFile;
}

export interface FrontendWarning {
  message: string;
  /** e.g. `Dockerfile:3`. */
  location?: { file: string; startLine: number; endLine: number };
  rule?: string;
}

export interface FrontendContext {
  opts: FrontendOptions;
  inputs: FrontendInputs;
  llb: typeof llb;
  resolveImageConfig(ref: string, platform: Platform): Promise<ResolvedImageConfig>;
  warn(w: FrontendWarning): void;
}

export interface FrontendResult {
  definition: Definition;
  config: ImageConfigFile;
}

/** `kiln build --call targets`: the targets a build file offers. */
export interface TargetsResult {
  targets: { name: string; description?: string; base?: string; platform?: string; default?: boolean; location?: { file: string; startLine: number; endLine: number } }[];
}

/** `kiln build --call outline`: what building a target takes (build args, secrets, SSH agents). */
export interface OutlineResult {
  name?: string;
  description?: string;
  args: { name: string; value?: string; description?: string }[];
  secrets: { name: string; required: boolean }[];
  ssh: { name: string; required: boolean }[];
}

export interface CallResults {
  targets: TargetsResult;
  outline: OutlineResult;
}

export interface Frontend {
  name: string;
  apiVersion?: number;
  build(ctx: FrontendContext): Promise<FrontendResult>;
  /** Subrequests (`--call targets|outline`); a frontend without them says so. Lint results come from build (warnings). */
  call?<K extends keyof CallResults>(request: K, ctx: FrontendContext): Promise<CallResults[K]>;
}

/** Declares a frontend (the default export of a plugin module). */
export function defineFrontend(f: Frontend): Frontend {
  return { apiVersion: FRONTEND_API_VERSION, ...f };
}

export type { Definition, Platform };
export { llb };
/** Every LLB type (State, RunMount, FileChain, Platform, ...). */
export type * from '../llb/index.ts';
export { DEFAULT_PATH } from '../llb/index.ts';
/** The error a frontend throws for bad input: `kind`, a `location` (file:line) and a `hint` reach the user as kiln shows its own. */
export { KilnError } from '../util/errors.ts';
/** .dockerignore-style patterns: `readIgnoreFile(text)` → patterns, `createPatternMatcher(patterns).matches(path)`. */
export { createPatternMatcher, readIgnoreFile, type PatternMatcher } from '../util/patternmatcher.ts';
/** Git URLs as docker build reads them (`https://...git#ref:subdir`, `git@host:repo`). */
export { parseGitUrl, type GitUrl } from '../util/git-url.ts';
/** chmod-style symbolic modes (`u+x,go-w`) for COPY --chmod. */
export { parseModeSpec, type ModeSpec } from '../util/file-mode.ts';
