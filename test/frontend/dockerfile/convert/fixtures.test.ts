/**
 * Fixture folders test/fixtures/dockerfile/convert/<case>/: a Dockerfile and expected.json
 * (the image config, history and the steps of the LLB, summarized). `UPDATE_FIXTURES=1` rewrites
 * expected.json — review the diff against BuildKit's behaviour before committing it.
 */
import { describe, expect, test } from 'bun:test';
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import * as llb from '../../../../src/llb/index.ts';
import type { FrontendContext, ImageConfigFile } from '../../../../src/frontend/api.ts';
import { convertDockerfile } from '../../../../src/frontend/dockerfile/convert/convert.ts';

const dir = join(import.meta.dirname, '..', '..', '..', 'fixtures', 'dockerfile', 'convert');
const amd64 = { os: 'linux', architecture: 'amd64' };
const DIGEST = `sha256:${'c'.repeat(64)}`;
const base: ImageConfigFile = {
  architecture: 'amd64',
  os: 'linux',
  config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['sh'] },
  rootfs: { type: 'layers', diff_ids: [`sha256:${'d'.repeat(64)}`] },
  history: [{ created: '2024-01-01T00:00:00Z', created_by: 'busybox base' }],
};

function context(): FrontendContext {
  return {
    opts: { buildArgs: {}, platforms: [amd64], buildPlatform: amd64, labels: {}, raw: {}, filename: 'Dockerfile', noCache: false, multiPlatform: false },
    inputs: { names: () => [], readFile: async () => new Uint8Array(), readDir: async () => [], stat: async () => undefined },
    solve: async () => {
      throw new Error('no solves in this test');
    },
    progress: () => {},
    llb,
    resolveImageConfig: async (ref) => ({ ref: `docker.io/library/${ref}:latest@${DIGEST}`, digest: DIGEST, config: structuredClone(base) }),
    warn: () => {},
  };
}

async function summarize(text: string) {
  const r = await convertDockerfile(text, context());
  const steps = r.definition.ops.map(({ digest, op }) => {
    const name = r.definition.metadata[digest]?.description?.['llb.customname'];
    const body = op.op;
    if (body.type === 'exec') {
      const mounts = body.mounts.filter((m) => m.dest !== '/');
      return {
        name,
        exec: body.meta.args,
        env: body.meta.env,
        cwd: body.meta.cwd,
        user: body.meta.user || undefined,
        network: body.network,
        ...(mounts.length ? { mounts } : {}),
        ...(body.secretEnv?.length ? { secretEnv: body.secretEnv } : {}),
      };
    }
    if (body.type === 'file') return { name, file: body.actions.map((a) => a.action) };
    if (body.type === 'source') return { name, source: body.identifier };
    return { name, [body.type]: true };
  });
  const { history, ...config } = r.config;
  return { config, history: history?.map((h) => (h.empty_layer ? `${h.created_by} (empty)` : h.created_by)), steps };
}

describe('Dockerfile → LLB fixtures', () => {
  for (const name of readdirSync(dir).sort()) {
    test(name, async () => {
      const got = JSON.parse(JSON.stringify(await summarize(readFileSync(join(dir, name, 'Dockerfile'), 'utf8'))));
      const file = join(dir, name, 'expected.json');
      if (process.env.UPDATE_FIXTURES || !existsSync(file)) writeFileSync(file, `${JSON.stringify(got, null, 2)}\n`);
      expect(got).toEqual(JSON.parse(readFileSync(file, 'utf8')));
    });
  }
});

/** test/fixtures/dockerfile/convert-negative/<case>/: a Dockerfile that must fail, and the words of its error. */
const negative = join(dir, '..', 'convert-negative');
describe('Dockerfile → LLB: errors', () => {
  for (const name of readdirSync(negative).sort()) {
    test(name, async () => {
      const want = readFileSync(join(negative, name, 'expected-error.txt'), 'utf8').trim();
      let message = '';
      try {
        await convertDockerfile(readFileSync(join(negative, name, 'Dockerfile'), 'utf8'), context());
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toContain(want);
    });
  }
});
