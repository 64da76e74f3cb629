/**
 * A build file cannot run code on the build machine: `# syntax=./evil.ts` (or a JSON "syntax"
 * key, or an executable) in a context nobody here wrote would run that code as kiln, as root.
 * BuildKit runs a syntax image in a container; kiln refuses a frontend file named by the build
 * file unless --allow frontend.local is given, and says so at the directive's line.
 */
import { describe, expect, test } from 'bun:test';
import { chmod, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeContext, runKiln } from '../helpers/kiln.ts';
import { useBuildEnv } from '../helpers/build-env.ts';
import { useHostGuard } from './helpers/host-guard.ts';
import { CRASH_SIGNS } from './helpers/clean-failure.ts';

const env = useBuildEnv();
const host = useHostGuard();

describe('frontends named by the build file', () => {
  for (const [name, file, directive] of [
    ['# syntax=./evil.ts', 'Dockerfile', (m: string) => `# syntax=./evil.ts\nFROM scratch\n# ${m}\n`],
    ['an absolute # syntax= path', 'Dockerfile', () => '# syntax=CTX/evil.ts\nFROM scratch\n'],
    ['a JSON build file\'s "syntax"', 'kiln.json', () => JSON.stringify({ syntax: './evil.ts' })],
    ['an executable frontend', 'Dockerfile', () => '# syntax=./evil.sh\nFROM scratch\n'],
  ] as const) {
    test(`${name} is refused without --allow frontend.local, and runs nothing`, async () => {
      const marker = join(host.guard.dir, 'ran');
      const ctx = await makeContext({
        'evil.ts': `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(marker)}, 'pwned');\nexport default { name: 'evil', build() { throw new Error('x'); } };\n`,
        'evil.sh': `#!/bin/sh\necho pwned > ${marker}\n`,
      });
      try {
        await chmod(join(ctx.dir, 'evil.sh'), 0o755);
        await writeFile(join(ctx.dir, file), directive('x').replace('CTX', ctx.dir));
        const r = await runKiln(['build', '--progress=plain', '-f', join(ctx.dir, file), ctx.dir], { root: env.state.root });
        if (r.code !== 2) console.error(r.stderr);
        expect(r.code).toBe(2);
        expect(r.stderr).toMatch(/names the frontend file .*--allow frontend\.local/);
        expect(r.stderr).toMatch(new RegExp(`${file.replace('.', '\\.')}:1\\b`));
        expect(r.stderr).not.toMatch(CRASH_SIGNS);
        expect(await stat(marker).catch(() => undefined)).toBeUndefined();
        expect(host.guard.problems()).toEqual([]);
      } finally {
        await ctx.cleanup();
      }
    });
  }
});
