/** ADD of a URL from a local HTTP server: file name, mode, mtime, --checksum, caching by content. */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createServer, type Server } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { makeContext, runKiln, tempStateDir } from '../helpers/kiln.ts';
import { makeTempDir, removeAll } from '../../src/util/fs.ts';

let server: Server;
let base = '';
let body = 'downloaded content\n';
const lastModified = new Date('2023-05-06T07:08:09Z');
let state: Awaited<ReturnType<typeof tempStateDir>>;

beforeAll(async () => {
  state = await tempStateDir();
  server = createServer((req, res) => {
    if (req.url === '/redirect') {
      res.writeHead(302, { location: '/files/tool.sh' });
      return res.end();
    }
    if (req.url?.startsWith('/files/')) {
      res.writeHead(200, { 'last-modified': lastModified.toUTCString(), 'content-type': 'text/plain' });
      return res.end(body);
    }
    res.writeHead(404);
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  await state.cleanup();
});

const sha = (s: string) => `sha256:${createHash('sha256').update(s).digest('hex')}`;

async function build(dockerfile: string) {
  const ctx = await makeContext({ Dockerfile: dockerfile });
  const out = await makeTempDir('kiln-out-');
  try {
    const r = await runKiln(['build', '--progress=plain', '-o', `type=local,dest=${join(out, 'fs')}`, ctx.dir], { root: state.root });
    const read = async (p: string) => ({ text: await readFile(join(out, 'fs', p), 'utf8').catch(() => undefined), st: await stat(join(out, 'fs', p)).catch(() => undefined) });
    return { r, files: { a: await read('dl/tool.sh'), b: await read('named.txt'), c: await read('via/redirect') } };
  } finally {
    await ctx.cleanup();
    await removeAll(out);
  }
}

describe('ADD URL', () => {
  test('downloads into dest/, names the file after the URL, mode 0600, Last-Modified mtime', async () => {
    const { r, files } = await build(`FROM scratch\nADD ${base}/files/tool.sh /dl/\nADD --checksum=${sha(body)} ${base}/files/x /named.txt\nADD ${base}/redirect /via/\n`);
    if (r.code !== 0) console.error(r.stderr);
    expect(r.code).toBe(0);
    expect(files.a.text).toBe(body);
    expect(files.a.st!.mode & 0o777).toBe(0o600);
    expect(files.a.st!.mtime.getTime()).toBe(lastModified.getTime());
    expect(files.b.text).toBe(body);
    expect(files.c.text).toBe(body);
  });

  test('a wrong --checksum fails the build', async () => {
    const { r } = await build(`FROM scratch\nADD --checksum=${sha('something else')} ${base}/files/tool.sh /x\n`);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('digest mismatch');
  });

  test('same content → cached; changed content → runs again', async () => {
    const df = `FROM scratch\nADD ${base}/files/tool.sh /dl/\n`;
    const again = await build(df);
    expect(again.r.stderr).toMatch(/0 steps run/);
    body = 'new content\n';
    const changed = await build(df);
    expect(changed.r.stderr).not.toMatch(/0 steps run/);
    expect(changed.files.a.text).toBe('new content\n');
  });

  test('COPY refuses a URL', async () => {
    const { r } = await build(`FROM scratch\nCOPY ${base}/files/tool.sh /x\n`);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("source can't be a URL for COPY");
  });
});
