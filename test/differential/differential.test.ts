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

const root = join(import.meta.dirname, '..', 'fixtures', 'differential');
const known: Record<string, string> = JSON.parse(readFileSync(join(root, 'known-differences.json'), 'utf8'));
const cases = readdirSync(root).filter((n) => existsSync(join(root, n, 'expected-config.json'))).sort();

const env = useBuildEnv();

describe('kiln vs BuildKit (recorded)', () => {
  for (const name of cases) {
    test(name, async () => {
      const out = join(env.state.root, `out-${name}`);
      const r = await runKiln(
        ['build', '--progress=plain', '--build-arg', `BASE=${env.reg.ref}`, '-o', `type=oci,dest=${out}.oci.tar`, '-o', `type=tar,dest=${out}.rootfs.tar`, join(root, name, 'context')],
        { root: env.state.root },
      );
      if (r.code !== 0) throw new Error(r.stderr);
      const { manifest } = await verifyOciArchive(`${out}.oci.tar`);
      // The config blob itself: skopeo's parsed config drops Docker's fields (Healthcheck, Shell, OnBuild).
      const configDigest = (manifest as { config: { digest: string } }).config.digest.slice(7);
      const config = JSON.parse(spawnSync('tar', ['-xOf', `${out}.oci.tar`, `blobs/sha256/${configDigest}`], { encoding: 'utf8' }).stdout);
      const gotConfig = summarizeConfig(config as Record<string, unknown>);
      const gotRootfs = await summarizeRootfs(`${out}.rootfs.tar`);
      const wantConfig = JSON.parse(readFileSync(join(root, name, 'expected-config.json'), 'utf8'));
      const wantRootfs = readFileSync(join(root, name, 'expected-rootfs.txt'), 'utf8');
      const same = JSON.stringify(gotConfig) === JSON.stringify(wantConfig) && gotRootfs === wantRootfs;
      if (known[name]) {
        expect(same).toBe(false); // fixed? then remove it from known-differences.json
        return;
      }
      expect(gotConfig).toEqual(wantConfig);
      expect(gotRootfs).toBe(wantRootfs);
    });
  }
});
