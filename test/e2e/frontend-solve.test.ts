/**
 * ctx.solve through the compiled binary: a frontend builds a step, reads the result's files
 * (readFile, readDir, stat), and builds from what it found; the step runs once; the time kiln
 * spends solving does not count against the frontend's limit; annotations reach the manifest;
 * bad definitions and failing steps give the promised errors. The same over the JSON protocol.
 */
import { describe, expect, test } from 'bun:test';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeContext, runKiln } from '../helpers/kiln.ts';
import { useBuildEnv } from '../helpers/build-env.ts';
import { verifyOciArchive } from '../helpers/verify-image.ts';

const env = useBuildEnv();

const PROBE = `
export default {
  name: 'probe',
  apiVersion: 1,
  async build(ctx) {
    const platform = ctx.opts.platforms[0];
    const base = await ctx.resolveImageConfig(ctx.opts.buildArgs.BASE, platform);
    const inputs = (await ctx.inputs.readDir('context', 'src')).map((e) => e.name + (e.isDirectory ? '/' : ''));
    const probe = ctx.llb.image(base.ref, { platform })
      .run({ args: ['/bin/sh', '-c', 'sleep ' + (ctx.opts.buildArgs.SLEEP ?? '0') + '; mkdir /probe && echo $((6 * 7)) > /probe/answer && ln -s answer /probe/link && echo probed'] })
      .root();
    ctx.progress('probing the base image');
    const tree = await ctx.solve(probe.marshal());
    const answer = new TextDecoder().decode(await tree.readFile('/probe/answer')).trim();
    const entries = (await tree.readDir('/probe')).map((e) => e.name + ':' + (e.isSymbolicLink ? 'l' : e.isDirectory ? 'd' : 'f'));
    const st = await tree.stat('/probe/link');
    const missing = await tree.stat('/probe/none');
    // Out of the root: resolved inside it (there is no /probe/../../../answer).
    const outside = await tree.stat('/probe/../../../answer');
    const summary = ['answer=' + answer, 'entries=' + entries.join(','), 'link-size=' + st.size, 'missing=' + missing, 'outside=' + outside, 'inputs=' + inputs.join(',')].join(' ');
    const final = probe.file(ctx.llb.mkfile('/result', 0o644, summary + '\\n'));
    return {
      definition: final.marshal(),
      config: { ...base.config, config: { ...base.config.config, Labels: { answer } } },
      annotations: { 'org.example.answer': answer },
    };
  },
};
`;

describe('ctx.solve', () => {
  test('a frontend solves a step, reads its files and builds from them; the step runs once', async () => {
    const ctx = await makeContext({ 'src/a.txt': 'a\n', 'src/sub/b.txt': 'b\n' });
    try {
      const plugin = join(ctx.dir, 'probe.ts');
      await writeFile(plugin, PROBE);
      const oci = join(env.out, 'probe.tar');
      // The step sleeps 3 s; the frontend may take 2 s of its own time: solving does not count.
      const r = await runKiln(['build', '--progress=plain', '--frontend', plugin, '--build-arg', `BASE=${env.reg.ref}`, '--build-arg', 'SLEEP=3', '-o', `type=oci,dest=${oci}`, ctx.dir], {
        root: env.state.root,
        env: { KILN_FRONTEND_TIMEOUT: '2' },
      });
      if (r.code !== 0) console.error(r.stderr);
      expect(r.code).toBe(0);
      expect(r.stderr).toContain(`${plugin}: probing the base image`);
      // The probe's RUN printed once: it ran in ctx.solve and the final build took its result.
      const printed = (out: string) => out.match(/^#\d+ [\d.]+ probed$/gm)?.length;
      expect(printed(r.stderr)).toBe(1);
      // the pull, the probe and the final file: each counted once
      expect(r.stderr).toMatch(/done in [\d.]+s: 3 steps run, 0 cached/);
      const { manifest, config } = await verifyOciArchive(oci, {
        onRootfs: async (root) => {
          expect(await readFile(join(root, 'result'), 'utf8')).toBe('answer=42 entries=answer:f,link:l link-size=3 missing=undefined outside=undefined inputs=a.txt,sub/\n');
        },
      });
      expect(config.config.Labels).toEqual({ answer: '42' });
      expect(manifest.annotations).toEqual({ 'org.example.answer': '42' });

      // Again, cached: nothing runs, the same answer.
      const again = await runKiln(['build', '--progress=plain', '--frontend', plugin, '--build-arg', `BASE=${env.reg.ref}`, '--build-arg', 'SLEEP=3', ctx.dir], { root: env.state.root });
      expect(again.code).toBe(0);
      expect(again.stderr).toMatch(/done in [\d.]+s: 0 steps run/);
      // --no-cache: the probe runs again, still once.
      const fresh = await runKiln(['build', '--progress=plain', '--no-cache', '--frontend', plugin, '--build-arg', `BASE=${env.reg.ref}`, ctx.dir], { root: env.state.root });
      expect(fresh.code).toBe(0);
      expect(printed(fresh.stderr)).toBe(1);
    } finally {
      await ctx.cleanup();
    }
  }, 60_000);

  test('an invalid definition and a failing step give clear errors', async () => {
    const ctx = await makeContext({});
    try {
      const bad = join(ctx.dir, 'bad.ts');
      await writeFile(bad, `export default { name: 'bad', async build(ctx) { await ctx.solve({ version: 1, ops: 'nope' }); } };\n`);
      const b = await runKiln(['build', '--frontend', bad, ctx.dir], { root: env.state.root });
      expect(b.code).toBe(1);
      expect(b.stderr).toContain(`frontend ${bad} passed ctx.solve an invalid definition: ops`);

      const failing = join(ctx.dir, 'failing.ts');
      await writeFile(
        failing,
        `export default { name: 'failing', async build(ctx) {
          const st = ctx.llb.image(${JSON.stringify(env.reg.ref)}).run({ args: ['/bin/sh', '-c', 'echo about to fail; exit 7'], customName: 'probe that fails' }).root();
          await ctx.solve(st.marshal());
        } };\n`,
      );
      const f = await runKiln(['build', '--progress=plain', '--frontend', failing, ctx.dir], { root: env.state.root });
      expect(f.code).toBe(1);
      // Shown as kiln shows a failed step: its name, exit code and output, not as a frontend crash.
      expect(f.stderr).toContain('probe that fails');
      expect(f.stderr).toContain('about to fail');
      expect(f.stderr).toMatch(/exit code:? 7|exited with 7|code 7/);
      expect(f.stderr).not.toContain(`frontend ${failing} failed`);
    } finally {
      await ctx.cleanup();
    }
  }, 60_000);

  test('over the JSON protocol: solve, ref.readFile, ref.readDir, ref.stat, readDir, progress, annotations', async () => {
    const ctx = await makeContext({ 'in/x.txt': 'x\n' });
    try {
      const script = join(ctx.dir, 'probe.py');
      await writeFile(
        script,
        `#!/usr/bin/env python3
import base64, json, sys
def send(m):
    sys.stdout.write(json.dumps(m) + "\\n"); sys.stdout.flush()
hello = json.loads(sys.stdin.readline())
n = 0
def call(method, **params):
    global n
    n += 1
    send({"id": n, "method": method, "params": params})
    r = json.loads(sys.stdin.readline())
    if "error" in r: raise SystemExit(r["error"])
    return r["result"]
base = ${JSON.stringify(env.reg.ref)}
img = call("resolveImageConfig", ref=base, platform=hello["opts"]["platforms"][0])
listing = [e["name"] for e in call("readDir", input="context", path="in")]
probe = {"ops": [
  {"op": {"type": "source", "identifier": "docker-image://" + img["ref"]}},
  {"op": {"type": "exec", "meta": {"args": ["/bin/sh", "-c", "echo from-python > /p.txt"], "env": [], "cwd": "/", "user": ""},
          "mounts": [{"input": 0, "dest": "/", "output": 0, "type": "bind"}], "network": "sandbox", "security": "sandbox"},
   "inputs": [{"op": 0, "index": 0}]}],
  "output": {"op": 1, "index": 0}}
call("progress", message="solving the probe")
ref = call("solve", definition=probe)["ref"]
text = base64.b64decode(call("ref.readFile", ref=ref, path="/p.txt")["data"]).decode().strip()
names = [e["name"] for e in call("ref.readDir", ref=ref, path="/") if e["name"] == "p.txt"]
size = call("ref.stat", ref=ref, path="/p.txt")["size"]
data = base64.b64encode(("%s %s %d %s\\n" % (text, names, size, listing)).encode()).decode()
probe["ops"].append({"op": {"type": "file", "actions": [{"input": 0, "secondaryInput": -1, "output": 0,
  "action": {"type": "mkfile", "path": "/summary", "mode": 420, "data": data}}]}, "inputs": [{"op": 1, "index": 0}]})
probe["output"] = {"op": 2, "index": 0}
send({"type": "result", "definition": probe, "config": img["config"], "annotations": {"org.example.lang": "python"}})
`,
      );
      await chmod(script, 0o755);
      const oci = join(env.out, 'py-probe.tar');
      const r = await runKiln(['build', '--progress=plain', '--frontend', script, '-o', `type=oci,dest=${oci}`, ctx.dir], { root: env.state.root });
      if (r.code !== 0) console.error(r.stderr);
      expect(r.code).toBe(0);
      expect(r.stderr).toContain(`${script}: solving the probe`);
      const { manifest } = await verifyOciArchive(oci, {
        onRootfs: async (root) => {
          expect(await readFile(join(root, 'summary'), 'utf8')).toBe("from-python ['p.txt'] 12 ['x.txt']\n");
        },
      });
      expect(manifest.annotations).toEqual({ 'org.example.lang': 'python' });
    } finally {
      await ctx.cleanup();
    }
  }, 60_000);
});
