/**
 * Independent checks of exported images with the tools users run: skopeo, umoci, tar.
 * Every function throws an Error carrying the tool's stderr when the tool rejects the
 * archive, and removes whatever it unpacked, also on failure.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ToolResult {
  stdout: string;
  stderr: string;
}

/** Runs `cmd args`; rejects with the command line and its stderr when it exits non-zero. */
export function runTool(cmd: string, args: string[], opts: { input?: Uint8Array } = {}): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      if (code === 0) resolve({ stdout, stderr });
      else reject(new Error(`${cmd} ${args.join(' ')} failed (${signal ?? `exit ${code}`}):\n${stderr.trim()}`));
    });
    child.stdin.end(opts.input);
  });
}

async function withTempDir<T>(prefix: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export interface VerifyOciOptions {
  /** Called with the unpacked root filesystem (umoci's bundle/rootfs) before it is removed. */
  onRootfs?: (rootfs: string) => Promise<void>;
  /**
   * false for zstd layers (umoci 0.4 cannot read them): skopeo then recompresses every layer
   * to gzip instead, which decompresses (and so checks) each one.
   */
  umoci?: boolean;
}

/**
 * Checks an OCI layout tar: `skopeo inspect --raw` and `--config` on `oci-archive:PATH`,
 * then `umoci unpack` of the extracted layout. Returns the parsed manifest and config.
 */
export async function verifyOciArchive(path: string, opts: VerifyOciOptions = {}): Promise<{ manifest: any; config: any }> {
  const manifest = JSON.parse((await runTool('skopeo', ['inspect', '--raw', `oci-archive:${path}`])).stdout);
  const config = JSON.parse((await runTool('skopeo', ['inspect', '--config', `oci-archive:${path}`])).stdout);
  if (opts.umoci === false) {
    await withTempDir('kiln-verify-', async (dir) => {
      await runTool('skopeo', ['copy', '--quiet', '--dest-compress', '--dest-compress-format', 'gzip', `oci-archive:${path}`, `oci:${join(dir, 'copy')}:x`]);
    });
    return { manifest, config };
  }
  await withTempDir('kiln-verify-', async (dir) => {
    const layout = join(dir, 'layout');
    await mkdir(layout);
    await runTool('tar', ['-xf', path, '-C', layout]);
    const tag = await ensureRefName(layout);
    const bundle = join(dir, 'bundle');
    await runTool('umoci', ['unpack', '--image', `${layout}:${tag}`, bundle]);
    if (opts.onRootfs) await opts.onRootfs(join(bundle, 'rootfs'));
  });
  return { manifest, config };
}

/** The tag umoci can select the (first) manifest by; adds one to the extracted copy when there is none. */
async function ensureRefName(layout: string): Promise<string> {
  const indexPath = join(layout, 'index.json');
  const index = JSON.parse(await readFile(indexPath, 'utf8'));
  const first = index.manifests?.[0];
  if (!first) throw new Error('index.json lists no manifest');
  const ref: unknown = first.annotations?.['org.opencontainers.image.ref.name'];
  if (typeof ref === 'string' && /^[A-Za-z0-9_][A-Za-z0-9._-]*$/.test(ref)) return ref;
  first.annotations = { ...(first.annotations ?? {}), 'org.opencontainers.image.ref.name': 'kiln-verify' };
  index.manifests = [first];
  await writeFile(indexPath, JSON.stringify(index));
  return 'kiln-verify';
}

/**
 * Checks a docker-load tar with `skopeo inspect docker-archive:PATH` (and `--config`,
 * `--raw`), then `skopeo copy` of it into a temp directory, which reads every layer as
 * `docker load` would. Returns skopeo's inspect output, the manifest skopeo derives, and
 * the config.
 */
export async function verifyDockerArchive(path: string): Promise<{ inspect: any; manifest: any; config: any }> {
  const inspect = JSON.parse((await runTool('skopeo', ['inspect', `docker-archive:${path}`])).stdout);
  const manifest = JSON.parse((await runTool('skopeo', ['inspect', '--raw', `docker-archive:${path}`])).stdout);
  const config = JSON.parse((await runTool('skopeo', ['inspect', '--config', `docker-archive:${path}`])).stdout);
  await withTempDir('kiln-verify-', async (dir) => {
    await runTool('skopeo', ['copy', '--quiet', `docker-archive:${path}`, `dir:${join(dir, 'copy')}`]);
  });
  return { inspect, manifest, config };
}

/** Entry names of a tar file, in archive order (`tar -tf`). */
export async function listTar(path: string): Promise<string[]> {
  const { stdout } = await runTool('tar', ['-tf', path]);
  return stdout.split('\n').filter((l) => l !== '');
}
