/**
 * RUN for a foreign architecture through binfmt_misc and QEMU (Debian's qemu-user-static): a
 * Dockerfile built for linux/amd64 and linux/arm64 from a locally made base index (Debian's
 * busybox-static for both), pushed to a real registry: skopeo sees an index with both platforms,
 * the arm64 image's busybox is an arm64 binary and its RUN step really ran under emulation, and
 * a `FROM --platform=$BUILDPLATFORM` stage runs natively once and feeds both. Without an
 * emulator, the error says so. The handlers this test registers are unregistered after it.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeContext, runKiln } from '../helpers/kiln.ts';
import { useBuildEnv } from '../helpers/build-env.ts';
import { pushBusyboxIndex } from '../helpers/busybox-image.ts';
import { runTool, verifyOciArchive } from '../helpers/verify-image.ts';
import { BINFMT_DIR, disableEmulators, enableEmulation, installedEmulators, registeredEmulators } from '../../src/executor/emulation.ts';
import { umount } from '../../src/platform/linux-fs.ts';

const env = useBuildEnv();
let base = '';
let registered: string[] = [];
let mounted = false;

beforeAll(async () => {
  base = await pushBusyboxIndex(env.reg.registry);
  ({ registered, mounted } = await enableEmulation());
});

afterAll(async () => {
  disableEmulators(registered);
  if (mounted) await umount(BINFMT_DIR);
});

/** ELF e_machine of a file: 0x3e x86-64, 0xb7 aarch64. */
const machine = (path: string) => readFileSync(path).readUInt16LE(18);

describe('foreign platforms', () => {
  test('linux/amd64,linux/arm64 with RUN on both: arm64 under QEMU; a $BUILDPLATFORM stage runs natively once', async () => {
    const ctx = await makeContext({
      Dockerfile: `FROM --platform=$BUILDPLATFORM ${base} AS tools
RUN echo "made on $(uname -m)" > /tool && echo ran-native-stage
FROM ${base}
COPY --from=tools /tool /tool
RUN uname -m > /arch && echo "ran-for-$(uname -m)"
`,
    });
    try {
      const ref = `${env.reg.ref.split('/')[0]}/emulated:latest`;
      const r = await runKiln(['build', '--progress=plain', '--platform', 'linux/amd64,linux/arm64', '-t', ref, '--push', ctx.dir], { root: env.state.root });
      if (r.code !== 0) console.error(r.stderr);
      expect(r.code).toBe(0);
      expect(r.stderr.match(/^#\d+ [\d.]+ ran-native-stage$/gm)?.length).toBe(1);
      expect(r.stderr.match(/^#\d+ [\d.]+ ran-for-x86_64$/gm)?.length).toBe(1);
      expect(r.stderr.match(/^#\d+ [\d.]+ ran-for-aarch64$/gm)?.length).toBe(1);

      const index = JSON.parse((await runTool('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref}`])).stdout);
      expect(index.manifests.map((m: { platform: { architecture: string } }) => m.platform.architecture)).toEqual(['amd64', 'arm64']);
      // The arm64 image: its files, read back from the registry.
      const oci = join(env.out, 'arm64.tar');
      await runTool('skopeo', ['copy', '--quiet', '--src-tls-verify=false', '--override-arch', 'arm64', `docker://${ref}`, `oci-archive:${oci}`]);
      const { config } = await verifyOciArchive(oci, {
        onRootfs: async (root) => {
          expect(readFileSync(join(root, 'arch'), 'utf8')).toBe('aarch64\n');
          expect(readFileSync(join(root, 'tool'), 'utf8')).toBe('made on x86_64\n');
          expect(machine(join(root, 'bin', 'busybox'))).toBe(0xb7);
        },
      });
      expect(config.architecture).toBe('arm64');
    } finally {
      await ctx.cleanup();
    }
  }, 120_000);

  test('no emulator for the platform: the error says so, and how to get one', async () => {
    const aarch64 = registeredEmulators().find((e) => e.name === 'qemu-aarch64');
    if (aarch64) disableEmulators(['qemu-aarch64']);
    const ctx = await makeContext({ Dockerfile: `FROM ${base}\nRUN true\n` });
    try {
      const r = await runKiln(['build', '--progress=plain', '--platform', 'linux/arm64', ctx.dir], { root: env.state.root });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('cannot run linux/arm64 programs on this linux/amd64 host: no emulator for arm64 is registered (binfmt_misc)');
      expect(r.stderr).toContain('kiln doctor --enable-emulation');
      expect(r.stderr).toContain('Dockerfile:2');
      const doctor = await runKiln(['doctor'], { root: env.state.root });
      expect(doctor.stdout).toMatch(/platforms RUN can use: .*linux\/amd64/);
      expect(doctor.stdout).not.toMatch(/platforms RUN can use: .*linux\/arm64/);
    } finally {
      await ctx.cleanup();
      // Back as it was: the handler registered again from its installed definition.
      const conf = installedEmulators().find((e) => e.name === 'qemu-aarch64');
      if (aarch64 && conf) writeFileSync(join(BINFMT_DIR, 'register'), readFileSync(conf.conf, 'utf8').split('\n').find((l) => l.startsWith(':'))!);
    }
  }, 60_000);
});
