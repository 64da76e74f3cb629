/**
 * A differential case's context as it was built: a copy of `<case>/context` on which
 * `<case>/prepare.sh` (if any) makes what git cannot keep (modes, empty dirs, nested .git,
 * ignored files). The caller removes the returned dir.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from '../../src/util/fs.ts';

export async function preparedContext(caseDir: string): Promise<{ dir: string; context: string }> {
  const dir = await makeTempDir('kiln-diffctx-');
  const context = join(dir, 'context');
  const cp = spawnSync('cp', ['-a', join(caseDir, 'context'), context]);
  if (cp.status !== 0) throw new Error(`copying ${caseDir}/context: ${cp.stderr}`);
  const script = join(caseDir, 'prepare.sh');
  if (existsSync(script)) {
    const r = spawnSync('sh', ['-e', script], { cwd: context, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${script}: ${r.stderr}`);
  }
  return { dir, context };
}
