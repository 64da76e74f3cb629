/** The command line itself: version, help, doctor, usage errors, FROM scratch, --network. */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { withBusyboxRegistry, type BusyboxRegistry } from '../helpers/busybox-image.ts';
import { makeContext, runKiln, tempStateDir } from '../helpers/kiln.ts';
import { makeTempDir, removeAll } from '../../src/util/fs.ts';

let state: Awaited<ReturnType<typeof tempStateDir>>;
beforeAll(async () => {
  state = await tempStateDir();
});
afterAll(async () => {
  await state.cleanup();
});

describe('kiln commands', () => {
  test('version and --version', async () => {
    const a = await runKiln(['version']);
    expect(a.code).toBe(0);
    expect(a.stdout).toMatch(/^kiln \d+\.\d+\.\d+/);
    const b = await runKiln(['--version']);
    expect(b.code).toBe(0);
    expect(b.stdout).toContain('0.1.0');
  });

  test('--help on every command', async () => {
    for (const args of [['--help'], ['build', '--help'], ['version', '--help'], ['doctor', '--help']]) {
      const r = await runKiln(args);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('Usage');
    }
    const help = (await runKiln(['build', '--help'])).stdout;
    expect(help).toContain('--build-arg');
    expect(help).toContain('--no-cache-filter <stages>');
    expect(help).not.toContain('nocache');
    expect(help).not.toContain('(default: true)');
  });

  test('-q prints only the image ID; COPY --from a near stage name warns', async () => {
    const ctx = await makeContext({ Dockerfile: 'FROM scratch AS builder\nLABEL a=b\n', 'near/Dockerfile': 'FROM scratch AS builder\nFROM scratch\nCOPY --from=biulder /a /b\n' });
    try {
      const r = await runKiln(['build', '-q', ctx.dir], { root: state.root });
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^sha256:[0-9a-f]{64}\n$/);
      expect(r.stderr).toBe('');
      const n = await runKiln(['build', '--progress=plain', '-f', join(ctx.dir, 'near', 'Dockerfile'), ctx.dir], { root: state.root });
      expect(n.code).toBe(1);
      expect(n.stderr).toContain('COPY --from=biulder: there is no build stage "biulder" (did you mean builder?)');
      expect(n.stderr).toContain('failed to resolve image biulder');
    } finally {
      await ctx.cleanup();
    }
  });

  test('completion scripts for bash, zsh and fish', async () => {
    for (const sh of ['bash', 'zsh', 'fish']) {
      const r = await runKiln(['completion', sh]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('build');
      expect(r.stdout).toContain('no-cache-filter');
    }
    expect((await runKiln(['completion', 'tcsh'])).code).toBe(2);
  });

  test('doctor prints one line per check and passes on this machine', async () => {
    const r = await runKiln(['doctor', '--root', state.root]);
    expect(r.stdout).toContain('OCI runtime');
    expect(r.stdout).toContain('overlayfs');
    expect(r.stdout).toContain('state dir');
    expect(r.stdout).toContain('free disk');
    expect(r.code).toBe(0);
  });

  test('usage errors exit 2 and say what is wrong', async () => {
    const unknownFlag = await runKiln(['build', '--no-such-flag', '.']);
    expect(unknownFlag.code).toBe(2);
    expect(unknownFlag.stderr).toContain('unknown flag: --no-such-flag');
    const typo = await runKiln(['build', '--buld-arg', 'a=b', '.']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('did you mean --build-arg?');
    const cmd = await runKiln(['buidl']);
    expect(cmd.code).toBe(2);
    expect(cmd.stderr).toContain('did you mean build?');
    const badOutput = await runKiln(['build', '-o', 'type=nope,dest=x', '.'], { root: state.root });
    expect(badOutput.code).toBe(2);
    expect(badOutput.stderr).toContain('unsupported output type "nope"');
    const noContext = await runKiln(['build'], { root: state.root });
    expect(noContext.code).toBe(2);
    const badValue = await runKiln(['build', '--progress=plian', '.'], { root: state.root });
    expect(badValue.code).toBe(2);
    expect(badValue.stderr).toContain('invalid --progress "plian" (did you mean plain?)');
  });

  test('a Dockerfile error names file:line and shows the line', async () => {
    const ctx = await makeContext({ Dockerfile: 'FROM scratch\nFROBNICATE x\n' });
    try {
      const r = await runKiln(['build', ctx.dir], { root: state.root });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('Dockerfile:2');
      expect(r.stderr).toContain('FROBNICATE x');
    } finally {
      await ctx.cleanup();
    }
  });

  test('FROM scratch with COPY and metadata', async () => {
    const ctx = await makeContext({ Dockerfile: 'FROM scratch\nCOPY a.txt /data/\nLABEL k=v\nCMD ["/x"]\n', 'a.txt': 'A\n' });
    const out = await makeTempDir('kiln-out-');
    try {
      const r = await runKiln(['build', '--progress=plain', '-o', `type=local,dest=${join(out, 'fs')}`, ctx.dir], { root: state.root });
      expect(r.code).toBe(0);
      expect(await readFile(join(out, 'fs', 'data', 'a.txt'), 'utf8')).toBe('A\n');
    } finally {
      await ctx.cleanup();
      await removeAll(out);
    }
  });
});

describe('--network', () => {
  let reg: BusyboxRegistry;
  let server: Server;
  let port = 0;
  beforeAll(async () => {
    reg = await withBusyboxRegistry();
    server = createServer((s) => s.end('pong\n'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
  });
  afterAll(async () => {
    await reg.stop();
    await new Promise((r) => server.close(r));
  });

  const dockerfile = () => `FROM ${reg.ref}\nRUN echo probe-${Date.now()}-${Math.random()} && (nc -w 2 127.0.0.1 ${port} </dev/null > /reply || true) && echo "reply: $(cat /reply)"\n`;

  test('the default network is the host network', async () => {
    const ctx = await makeContext({ Dockerfile: dockerfile() });
    try {
      const r = await runKiln(['build', '--progress=plain', ctx.dir], { root: state.root });
      expect(r.code).toBe(0);
      expect(r.stderr).toContain('reply: pong');
    } finally {
      await ctx.cleanup();
    }
  });

  test('--network none has only loopback: the host server is unreachable', async () => {
    const ctx = await makeContext({ Dockerfile: dockerfile() });
    try {
      const r = await runKiln(['build', '--progress=plain', '--network', 'none', ctx.dir], { root: state.root });
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/reply: \n|reply: $/m);
      expect(r.stderr).not.toContain('reply: pong');
    } finally {
      await ctx.cleanup();
    }
  });

  test('RUN --network=none in a default-network build: that step cannot reach the host server', async () => {
    const probe = `(nc -w 2 127.0.0.1 ${port} </dev/null > /reply || true) && echo "reply: $(cat /reply)"`;
    const ctx = await makeContext({ Dockerfile: `FROM ${reg.ref}
RUN --network=none echo none-${Math.random()} && ${probe}
RUN echo default-${Math.random()} && ${probe}
` });
    try {
      const r = await runKiln(['build', '--progress=plain', ctx.dir], { root: state.root });
      expect(r.code).toBe(0);
      const lines = r.stderr.split('\n').filter((l) => /^#\d+ [\d.]+ reply:/.test(l));
      expect(lines.length).toBe(2);
      expect(lines[0]).not.toContain('pong');
      expect(lines[1]).toContain('reply: pong');
    } finally {
      await ctx.cleanup();
    }
  });
});

describe('kiln build --check', () => {
  test('reports each rule with its link and line, exits 1; a clean file exits 0', async () => {
    const bad = await makeContext({ Dockerfile: 'FROM scratch as build\nMAINTAINER me\n' });
    const good = await makeContext({ Dockerfile: 'FROM scratch AS build\nLABEL a=b\n' });
    try {
      const r = await runKiln(['build', '--check', bad.dir]);
      expect(r.code).toBe(1);
      expect(r.stdout).toContain('Check complete, 2 warnings have been found!');
      expect(r.stdout).toContain('WARNING: FromAsCasing - https://docs.docker.com/go/dockerfile/rule/from-as-casing/');
      expect(r.stdout).toContain("'as' and 'FROM' keywords' casing do not match");
      expect(r.stdout).toContain('Dockerfile:2');
      const ign = await makeContext({ Dockerfile: 'FROM scratch\nCOPY secret.txt /\n', '.dockerignore': 'secret.txt\n', 'secret.txt': 's' });
      try {
        const w = await runKiln(['build', '--check', ign.dir]);
        expect(w.stdout).toContain('Attempting to Copy file "secret.txt" that is excluded by .dockerignore');
      } finally {
        await ign.cleanup();
      }
      const ok = await runKiln(['build', '--check', good.dir]);
      expect(ok.code).toBe(0);
      expect(ok.stdout).toContain('no warnings');
    } finally {
      await bad.cleanup();
      await good.cleanup();
    }
  });
});
