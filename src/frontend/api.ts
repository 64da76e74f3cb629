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
  /** The result must be multi-platform (`platforms` in the result) even for one platform (BUILDKIT_MULTI_PLATFORM=1). */
  multiPlatform: boolean;
  /** The platform kiln runs on. */
  buildPlatform: Platform;
  labels: Record<string, string>;
  /** Every `--opt k=v`, raw. */
  raw: Record<string, string>;
  /** Name of the build file inside the `dockerfile` input (default `Dockerfile`). */
  filename: string;
  noCache: boolean;
}

/** What stat and readDir tell about a file (symlinks not followed by readDir; followed by stat within the root). */
export interface FileInfo {
  name: string;
  isDirectory: boolean;
  isSymbolicLink: boolean;
  size: number;
  /** Permission bits (e.g. 0o755). */
  mode: number;
}

/**
 * Read access to a file tree: a named local input, or a solved result. Paths are relative to
 * the tree's root; `..` and symlinks never lead outside it.
 */
export interface FileTree {
  readFile(path: string): Promise<Uint8Array>;
  /** The entries of a directory, sorted by name. */
  readDir(path: string): Promise<FileInfo[]>;
  /** undefined when the path does not exist. */
  stat(path: string): Promise<FileInfo | undefined>;
}

/** Read access to a named local input (`context`, `dockerfile`, named contexts). */
export interface FrontendInputs {
  /** Names of the local inputs of this build. */
  names(): string[];
  readFile(input: string, path: string): Promise<Uint8Array>;
  readDir(input: string, path: string): Promise<FileInfo[]>;
  /** undefined when the path does not exist. */
  stat(input: string, path: string): Promise<FileInfo | undefined>;
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
  /**
   * Builds a definition now (`state.marshal()`), with the build's cache, and gives read access
   * to the result's files: a frontend can run a step and decide what to build from its output.
   * Steps solved here are not run again for the final result.
   */
  solve(definition: Definition): Promise<FileTree>;
  warn(w: FrontendWarning): void;
  /** A line of progress in the build's output (what the frontend is doing). */
  progress(message: string): void;
}

/** One platform's part of a multi-platform result. */
export interface PlatformResult {
  platform: Platform;
  definition: Definition;
  config: ImageConfigFile;
}

export interface FrontendResult {
  definition: Definition;
  config: ImageConfigFile;
  /** Annotations for the image manifest (with the output's own `annotation.*` attributes, which win). */
  annotations?: Record<string, string>;
  /**
   * A definition and config per platform: the result is an image index (or, for local and tar
   * outputs, a directory per platform) even with one platform. `definition` and `config` are
   * then the first platform's. Frontends give it when `opts.platforms` has several entries or
   * `opts.multiPlatform` is set.
   */
  platforms?: PlatformResult[];
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
