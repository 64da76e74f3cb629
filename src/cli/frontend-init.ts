/**
 * `kiln frontend init DIR`: a new TypeScript frontend to start from: the frontend (a tiny
 * language: one `FILE path text` or `RUN command` per line, on a base image), the API's types,
 * an example build file, a test that builds it with kiln, and a README. Never overwrites.
 */
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { usageError } from '../util/errors.ts';

const TYPES = `/**
 * The kiln frontend API, version 1 (the types of kiln's src/frontend/api.ts, for editors).
 * kiln passes everything in \`ctx\`: a frontend module imports nothing from kiln.
 */
export interface Platform { os: string; architecture: string; variant?: string }

export interface FrontendOptions {
  /** --build-arg K=V */
  buildArgs: Record<string, string>;
  target?: string;
  platforms: Platform[];
  buildPlatform: Platform;
  labels: Record<string, string>;
  /** every --opt k=v, raw */
  raw: Record<string, string>;
  /** the build file's name in the \`dockerfile\` input (-f) */
  filename: string;
  noCache: boolean;
  /** the result must list platforms (several targets, or BUILDKIT_MULTI_PLATFORM=1) */
  multiPlatform: boolean;
}

export interface State {
  addEnv(key: string, value: string): State;
  dir(path: string): State;
  user(user: string): State;
  platform(p: Platform): State;
  run(opts: { args: string[]; customName?: string; mounts?: unknown[]; network?: 'sandbox' | 'host' | 'none' }): { root(): State };
  file(chain: FileChain, opts?: { customName?: string }): State;
  marshal(): unknown;
}

export interface FileChain {
  mkdir(path: string, mode: number, opts?: { makeParents?: boolean }): FileChain;
  mkfile(path: string, mode: number, data: string | Uint8Array): FileChain;
  rm(path: string, opts?: { allowNotFound?: boolean }): FileChain;
  copy(source: State, src: string, dest: string, opts?: Record<string, unknown>): FileChain;
}

export interface Llb {
  image(ref: string, opts?: { platform?: Platform }): State;
  local(name: string, opts?: { customName?: string; excludePatterns?: string[] }): State;
  scratch(): State;
  git(remote: string, ref: string): State;
  http(url: string, opts?: { checksum?: string; filename?: string }): State;
  merge(states: State[]): State;
  /** What upper adds, changes and removes compared with lower. */
  diff(lower: State, upper: State): State;
  mkdir(path: string, mode: number, opts?: { makeParents?: boolean }): FileChain;
  mkfile(path: string, mode: number, data: string | Uint8Array): FileChain;
  rm(path: string, opts?: { allowNotFound?: boolean }): FileChain;
  copy(source: State, src: string, dest: string, opts?: Record<string, unknown>): FileChain;
}

export interface ImageConfig {
  architecture: string;
  os: string;
  config: { Env?: string[]; Cmd?: string[] | null; Entrypoint?: string[] | null; WorkingDir?: string; User?: string; Labels?: Record<string, string> };
  rootfs: { type: 'layers'; diff_ids: string[] };
  history?: { created_by?: string; comment?: string; empty_layer?: boolean }[];
}

export interface FileInfo { name: string; isDirectory: boolean; isSymbolicLink: boolean; size: number; mode: number }

/** A solved result's files (paths never lead outside it). */
export interface FileTree {
  readFile(path: string): Promise<Uint8Array>;
  readDir(path: string): Promise<FileInfo[]>;
  stat(path: string): Promise<FileInfo | undefined>;
}

export interface FrontendContext {
  opts: FrontendOptions;
  inputs: {
    names(): string[];
    readFile(input: string, path: string): Promise<Uint8Array>;
    readDir(input: string, path: string): Promise<FileInfo[]>;
    stat(input: string, path: string): Promise<FileInfo | undefined>;
  };
  llb: Llb;
  /** The image's reference pinned to its digest, and its config. */
  resolveImageConfig(ref: string, platform: Platform): Promise<{ ref: string; digest: string; config: ImageConfig }>;
  /** Builds a definition now (state.marshal()) and gives its files. */
  solve(definition: unknown): Promise<FileTree>;
  warn(w: { message: string; rule?: string }): void;
  /** A line in the build's progress. */
  progress(message: string): void;
}

export interface Frontend {
  name: string;
  apiVersion?: 1;
  build(ctx: FrontendContext): Promise<{
    definition: unknown;
    config: ImageConfig;
    annotations?: Record<string, string>;
    /** multi-platform: a definition and config per platform */
    platforms?: { platform: Platform; definition: unknown; config: ImageConfig }[];
  }>;
}
`;

const FRONTEND = (name: string) => `/**
 * ${name}: a kiln frontend. Build files hold one instruction per line:
 *
 *   BASE busybox:latest          (or BASE scratch)
 *   FILE /hello.txt Hello!
 *   RUN echo built > /built
 *
 * Build with:  kiln build --frontend ./frontend.ts -f build.txt .
 */
import type { Frontend } from './kiln-frontend.d.ts';

const frontend: Frontend = {
  name: '${name}',
  apiVersion: 1,
  async build(ctx) {
    const { llb, opts } = ctx;
    const platform = opts.platforms[0]!;
    const text = new TextDecoder().decode(await ctx.inputs.readFile('dockerfile', opts.filename));
    let st = llb.scratch().platform(platform);
    let config = { architecture: platform.architecture, os: platform.os, config: {}, rootfs: { type: 'layers' as const, diff_ids: [] as string[] }, history: [] as { created_by: string }[] };
    for (const [n, raw] of text.split('\\n').entries()) {
      const line = raw.trim();
      if (!line || line.startsWith('#')) continue;
      const [word, ...rest] = line.split(' ');
      const arg = rest.join(' ');
      if (word === 'BASE' && arg !== 'scratch') {
        const img = await ctx.resolveImageConfig(arg, platform);
        st = llb.image(img.ref, { platform });
        config = { ...config, ...img.config, history: [...(img.config.history ?? [])] as { created_by: string }[] };
      } else if (word === 'FILE') {
        const [path, ...words] = rest;
        st = st.file(llb.mkfile(path!, 0o644, \`\${words.join(' ')}\\n\`), { customName: \`FILE \${path}\` });
        config.history.push({ created_by: line });
      } else if (word === 'RUN') {
        st = st.run({ args: ['/bin/sh', '-c', arg], customName: line }).root();
        config.history.push({ created_by: line });
      } else if (word !== 'BASE') {
        throw new Error(\`\${opts.filename}:\${n + 1}: unknown instruction \${word}\`);
      }
    }
    return { definition: st.marshal(), config };
  },
};

export default frontend;
`;

/** The scaffolded test's runner module (text of a generated file: kiln itself uses no Bun API here). */
const BUN_TEST = ['bun', 'test'].join(':');

const TEST = `/**
 * Builds build.txt with kiln and checks the result (run: bun test, with kiln on PATH or KILN set).
 */
import { expect, test } from '${BUN_TEST}';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

test('build.txt builds', () => {
  const out = mkdtempSync(join(tmpdir(), 'frontend-test-'));
  try {
    const r = spawnSync(process.env.KILN ?? 'kiln', ['build', '--frontend', join(import.meta.dir, 'frontend.ts'), '-f', join(import.meta.dir, 'build.txt'), '-o', \`type=local,dest=\${join(out, 'fs')}\`, import.meta.dir], { encoding: 'utf8', env: { ...process.env, KILN_ROOT: join(out, 'state') } });
    expect(r.stderr).not.toContain('ERROR');
    expect(r.status).toBe(0);
    expect(readFileSync(join(out, 'fs', 'hello.txt'), 'utf8')).toBe('Hello from a kiln frontend\\n');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
`;

const README = (name: string) => `# ${name}

A [kiln](https://example.invalid/kiln) frontend: a build language of its own, as one TypeScript file.

    kiln build --frontend ./frontend.ts -f build.txt -o type=oci,dest=image.tar .

- \`frontend.ts\`: the frontend. \`build(ctx)\` reads the build file (\`ctx.inputs\`), describes the
  image with \`ctx.llb\` (sources, file operations, RUN steps) and returns \`{ definition, config }\`.
- \`kiln-frontend.d.ts\`: the API's types (kiln passes everything in \`ctx\`; nothing to install).
- \`build.txt\`: an example build file. \`frontend.test.ts\`: builds it (\`bun test\`, with \`kiln\` on PATH).

Let build files choose this frontend themselves with a first line \`# syntax=./frontend.ts\`, or name it
in kiln's config file: \`[frontend."${name}"] path = "/abs/path/frontend.ts"\`, then \`--frontend ${name}\`.
`;

export async function runFrontendInit(dir: string | undefined): Promise<void> {
  if (!dir) throw usageError('kiln frontend init needs a directory', 'kiln frontend init ./my-frontend');
  const root = resolve(dir);
  const name = basename(root).replace(/[^a-zA-Z0-9._-]/g, '-') || 'my-frontend';
  await mkdir(root, { recursive: true });
  const files: Record<string, string> = {
    'frontend.ts': FRONTEND(name),
    'kiln-frontend.d.ts': TYPES,
    'build.txt': 'BASE scratch\nFILE /hello.txt Hello from a kiln frontend\n',
    'frontend.test.ts': TEST,
    'README.md': README(name),
  };
  for (const f of Object.keys(files)) {
    if (await stat(join(root, f)).catch(() => undefined)) throw usageError(`${join(root, f)} exists already: kiln frontend init never overwrites`, 'choose an empty or new directory');
  }
  for (const [f, text] of Object.entries(files)) await writeFile(join(root, f), text);
  process.stdout.write(`created ${name} in ${root}: frontend.ts, kiln-frontend.d.ts, build.txt, frontend.test.ts, README.md\n`);
  process.stdout.write(`try: kiln build --frontend ${join(root, 'frontend.ts')} -f ${join(root, 'build.txt')} -o type=local,dest=out ${root}\n`);
}
