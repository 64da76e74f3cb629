/**
 * kiln against what BuildKit (Docker 20.10) produced for the same Dockerfiles, recorded by
 * scripts/record-differential.ts into test/fixtures/differential/<case>/. A case listed in
 * known-differences.json must still differ (fixing it means removing it from the list).
 */
import { describe, expect, test } from 'bun:test';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { useBuildEnv } from '../helpers/build-env.ts';
import { runKiln } from '../helpers/kiln.ts';
import { verifyOciArchive } from '../helpers/verify-image.ts';
import { summarizeConfig, summarizeRootfs } from './summarize.ts';
import { preparedContext } from './prepare.ts';
import { removeAll } from '../../src/util/fs.ts';

const root = join(import.meta.dirname, '..', 'fixtures', 'differential');
/** Where Docker 20.10's BuildKit (v0.8) and the current BuildKit that kiln follows disagree: that part must
 * still differ (fixing it means removing the entry); every other part must match exactly. */
const known: Record<string, { parts: ('history' | 'rootfs')[]; why: string[] }> = JSON.parse(readFileSync(join(root, 'known-differences.json'), 'utf8'));
const cases = readdirSync(root).filter((n) => existsSync(join(root, n, 'expected-config.json'))).sort();

const env = useBuildEnv();

describe('kiln vs BuildKit (recorded)', () => {
  for (const name of cases) {
    test(name, async () => {
      const out = join(env.state.root, `out-${name}`);
      const prepared = await preparedContext(join(root, name));
      const r = await runKiln(
        ['build', '--progress=plain', '--build-arg', `BASE=${env.reg.ref}`, '-o', `type=oci,dest=${out}.oci.tar`, '-o', `type=tar,dest=${out}.rootfs.tar`, prepared.context],
        { root: env.state.root },
      ).finally(() => removeAll(prepared.dir));
      if (r.code !== 0) throw new Error(r.stderr);
      const { manifest } = await verifyOciArchive(`${out}.oci.tar`);
      // The config blob itself: skopeo's parsed config drops Docker's fields (Healthcheck, Shell, OnBuild).
      const configDigest = (manifest as { config: { digest: string } }).config.digest.slice(7);
      const config = JSON.parse(spawnSync('tar', ['-xOf', `${out}.oci.tar`, `blobs/sha256/${configDigest}`], { encoding: 'utf8' }).stdout);
      const gotConfig = summarizeConfig(config as Record<string, unknown>);
      const gotRootfs = await summarizeRootfs(`${out}.rootfs.tar`);
      const wantConfig = JSON.parse(readFileSync(join(root, name, 'expected-config.json'), 'utf8'));
      const wantRootfs = readFileSync(join(root, name, 'expected-rootfs.txt'), 'utf8');
      const { history: gotHistory, ...gotRest } = gotConfig;
      const { history: wantHistory, ...wantRest } = wantConfig;
      expect(gotRest).toEqual(wantRest);
      const parts = known[name]?.parts ?? [];
      if (parts.includes('history')) {
        expect(gotHistory).not.toEqual(wantHistory); // fixed? then remove it from known-differences.json
        // Only the created_by texts may differ: the same steps, the same empty layers.
        const shape = (h: unknown) => (h as { empty_layer?: boolean; comment?: string }[]).map((e) => [e.empty_layer ?? false, e.comment ?? '']);
        expect(shape(gotHistory)).toEqual(shape(wantHistory));
      } else expect(gotHistory).toEqual(wantHistory);
      if (parts.includes('rootfs')) expect(gotRootfs).not.toBe(wantRootfs);
      else expect(gotRootfs).toBe(wantRootfs);
    });
  }
});
