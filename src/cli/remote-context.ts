import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { KilnError, usageError } from '../util/errors.ts';
import { makeTempDir, removeAll } from '../util/fs.ts';
import { extractArchive, isArchive } from '../solver/ops/file-unpack.ts';
import { checkoutCommit, repoSubdir, resolveCommit, type GitOptions } from '../source/git.ts';
import { parseGitUrl } from '../util/git-url.ts';
import { watchTransfer } from '../util/stall.ts';

/** A context made from something that is not a directory: where it is, and a Dockerfile that came instead of one. */
export interface MaterializedContext {
  dir: string;
  /** Set when the input was a Dockerfile (stdin or a URL to a text file): the context is empty. */
  dockerfileDir?: string;
}

/** Docker's rules for a git context (util/git-url.ts, github.com/ shorthand included). */
export function isGitContext(arg: string): boolean {
  return parseGitUrl(arg, { githubShorthand: true }) !== undefined;
}

export function isRemoteContext(arg: string): boolean {
  return arg === '-' || isGitContext(arg) || /^https?:\/\//.test(arg);
}

/** An archive (any compression) becomes the context; anything else is taken as the Dockerfile. */
async function fromFile(file: string, dir: string, what: string): Promise<MaterializedContext> {
  const ctx = join(dir, 'context');
  await mkdir(ctx);
  const compression = await isArchive(file);
  if (compression) {
    try {
      await extractArchive(file, compression, ctx, '/');
    } catch (err) {
      throw new KilnError(`cannot extract the build context from ${what}: ${(err as Error).message}`, { kind: 'input' });
    }
    return { dir: ctx };
  }
  const text = await readFile(file);
  if (text.includes(0)) throw new KilnError(`${what} is neither a tar archive nor a Dockerfile`, { kind: 'input' });
  const df = join(dir, 'dockerfile');
  await mkdir(df);
  await writeFile(join(df, 'Dockerfile'), text);
  return { dir: ctx, dockerfileDir: df };
}

/**
 * The build context of `kiln build ARG` when ARG is not a directory, as docker build reads
 * it: `-` (a tar on stdin, plain or compressed, or a Dockerfile alone), a git URL
 * (`URL#ref:subdir`), or an https URL of a tarball (or of a Dockerfile). Materialized in a
 * temp dir added to `tempDirs` (removed after the build).
 */
export async function materializeContext(arg: string, tempDirs: string[], o: GitOptions = {}): Promise<MaterializedContext> {
  const dir = await makeTempDir('kiln-context-');
  try {
    const out = await materializeIn(arg, dir, o);
    tempDirs.push(dir);
    return out;
  } catch (err) {
    await removeAll(dir);
    throw err;
  }
}

async function materializeIn(arg: string, dir: string, o: GitOptions): Promise<MaterializedContext> {
  if (arg === '-') {
    const file = join(dir, 'stdin');
    await pipeline(process.stdin, createWriteStream(file));
    if ((await stat(file)).size === 0) throw usageError('kiln build -: nothing on stdin', 'pipe a tar of the context (or a Dockerfile) into kiln build -');
    return fromFile(file, dir, 'stdin');
  }
  const git = parseGitUrl(arg, { githubShorthand: true });
  if (git) {
    const { remote, ref, subdir = '' } = git;
    const work = join(dir, 'repo');
    await checkoutCommit(remote, ref, await resolveCommit(remote, ref, o), work, o);
    await rm(join(work, '.git'), { recursive: true, force: true });
    return { dir: await repoSubdir(work, subdir, arg) };
  }
  const file = join(dir, 'download');
  // Under a watchdog: a server that stops sending ends the download (util/stall.ts).
  const dog = watchTransfer(new URL(arg).host, o.limits, o.signal);
  try {
    const res = await fetch(arg, { redirect: 'follow', signal: dog.signal });
    if (!res.ok || !res.body) throw new KilnError(`cannot download the build context ${arg}: HTTP ${res.status}`, { kind: 'runtime' });
    const counted = Readable.fromWeb(res.body as never).on('data', (c: Buffer) => dog.progress(c.length));
    await pipeline(counted, createWriteStream(file));
  } catch (err) {
    if (err instanceof KilnError) throw err;
    throw new KilnError(`cannot download the build context ${arg}: ${(dog.explain(err) as Error).message}`, { kind: 'runtime' });
  } finally {
    dog.stop();
  }
  return fromFile(file, dir, arg);
}
