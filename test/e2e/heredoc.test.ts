/** Here-documents in RUN and COPY, run for real. */
import { describe, expect, test } from 'bun:test';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { useBuildEnv } from '../helpers/build-env.ts';
import { makeContext, runKiln } from '../helpers/kiln.ts';
import { makeTempDir, removeAll } from '../../src/util/fs.ts';

const env = useBuildEnv();

describe('heredocs', () => {
  test('RUN <<EOF (shell lines), a shebang script, <<- and COPY <<EOF', async () => {
    const df = [
      '# syntax=docker/dockerfile:1',
      `FROM ${env.reg.ref}`,
      'ENV WHO=kiln',
      'RUN <<EOF',
      'echo "line one" > /one',
      'echo "hello $WHO" >> /one',
      'EOF',
      'RUN <<EOF',
      '#!/bin/sh -e',
      'echo "from a script: $0" > /script-ran',
      'EOF',
      'RUN <<-EOT',
      '\techo tabbed > /tabs',
      '\tEOT',
      'COPY <<EOF /etc/greeting',
      'Hi $WHO',
      'EOF',
      "COPY <<'EOF' /etc/raw",
      'Hi $WHO',
      'EOF',
      '',
    ].join('\n');
    const ctx = await makeContext({ Dockerfile: df });
    const out = await makeTempDir('kiln-out-');
    try {
      const r = await runKiln(['build', '--progress=plain', '-o', `type=local,dest=${join(out, 'fs')}`, ctx.dir], { root: env.state.root });
      if (r.code !== 0) console.error(r.stderr);
      expect(r.code).toBe(0);
      const fs = (p: string) => readFile(join(out, 'fs', p), 'utf8');
      expect(await fs('one')).toBe('line one\nhello kiln\n');
      expect(await fs('script-ran')).toStartWith('from a script: /dev/pipes/');
      expect(await fs('tabs')).toBe('tabbed\n');
      expect(await fs('etc/greeting')).toBe('Hi kiln\n');
      expect(await fs('etc/raw')).toBe('Hi $WHO\n');
      expect(await stat(join(out, 'fs', 'dev', 'pipes')).catch(() => undefined)).toBeUndefined();
    } finally {
      await ctx.cleanup();
      await removeAll(out);
    }
  });
});
