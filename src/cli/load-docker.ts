/**
 * `--load`: the image in docker-load format, handed to `docker load` (the docker CLI on PATH,
 * talking to whatever engine DOCKER_HOST names), as buildx does. kiln never needs docker
 * otherwise; without a docker CLI, --load is refused before the build starts.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, createReadStream } from 'node:fs';
import { join } from 'node:path';
import { createDockerExporter } from '../exporter/index.ts';
import type { Exporter } from '../exporter/types.ts';
import { KilnError, usageError } from '../util/errors.ts';
import { makeTempDir, removeAll } from '../util/fs.ts';

/** The docker CLI's path, or a usage error saying --load needs it. */
export function findDockerCli(env: NodeJS.ProcessEnv = process.env): string {
  for (const dir of (env.PATH ?? '').split(':').filter(Boolean)) {
    const p = join(dir, 'docker');
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {}
  }
  throw usageError('--load needs the docker CLI, and docker is not in PATH', 'install it, or export with -o type=docker,dest=image.tar and load that file where docker runs');
}

export function createDockerLoadExporter(docker: string, ociMediaTypes = false): Exporter {
  return {
    kind: 'docker load',
    async export(src) {
      const dir = await makeTempDir('kiln-load-');
      try {
        const file = join(dir, 'image.tar');
        const r = await createDockerExporter({ dest: file, ociMediaTypes }).export(src);
        const { code, output } = await new Promise<{ code: number; output: string }>((resolve) => {
          const child = spawn(docker, ['load'], { stdio: ['pipe', 'pipe', 'pipe'] });
          let output = '';
          child.stdout.on('data', (c: Buffer) => (output += c));
          child.stderr.on('data', (c: Buffer) => (output += c));
          child.on('error', (err) => resolve({ code: -1, output: String(err) }));
          child.on('close', (c) => resolve({ code: c ?? -1, output }));
          createReadStream(file).pipe(child.stdin).on('error', () => {});
        });
        if (code !== 0) throw new KilnError(`docker load failed (exit ${code}): ${output.trim().split('\n').pop() ?? ''}`, { kind: 'runtime', details: output.trim().split('\n').slice(-5) });
        return { ...r, kind: 'docker load', dest: output.trim().split('\n').pop() };
      } finally {
        await removeAll(dir);
      }
    },
  };
}
