/**
 * A kiln frontend that builds an image from a small JSON spec instead of a Dockerfile:
 *
 *   {
 *     "syntax": "./frontend.ts",             (optional: lets `kiln build` pick this frontend)
 *     "base": "busybox:latest",              (an image, or "scratch")
 *     "workdir": "/app",
 *     "env": { "GREETING": "hello" },
 *     "files": { "/app/motd": "text\n" },    (files written into the image)
 *     "copy": [{ "from": "src", "to": "/app/src" }],   (from the build context)
 *     "run": ["echo built > /app/stamp"],    (shell steps, /bin/sh -c)
 *     "entrypoint": ["/bin/sh", "-c"], "cmd": ["cat /app/motd"],
 *     "labels": { "org.example": "spec" }
 *   }
 *
 * It uses nothing but the frontend API it is given (ctx): no imports, so it runs from any
 * directory, also with the compiled kiln binary.
 */
export default {
  name: 'spec',
  apiVersion: 1,
  async build(ctx: any) {
    // Comment lines (`# syntax=...`, `// ...`) may precede the JSON.
    const text = new TextDecoder()
      .decode(await ctx.inputs.readFile('dockerfile', ctx.opts.filename))
      .split('\n')
      .filter((l) => !/^\s*(#|\/\/)/.test(l))
      .join('\n');
    let spec: any;
    try {
      spec = JSON.parse(text);
    } catch (err) {
      throw new Error(`${ctx.opts.filename} is not valid JSON: ${(err as Error).message}`);
    }
    if (typeof spec.base !== 'string') throw new Error(`${ctx.opts.filename}: "base" (an image name or "scratch") is required`);
    const platform = ctx.opts.platforms[0];
    const { llb } = ctx;
    let env: string[] = [];
    let config: any = { architecture: platform.architecture, os: platform.os, config: {}, rootfs: { type: 'layers', diff_ids: [] }, history: [] };
    let st;
    if (spec.base === 'scratch') st = llb.scratch().platform(platform);
    else {
      const img = await ctx.resolveImageConfig(spec.base, platform);
      st = llb.image(img.ref, { platform });
      config = { ...img.config, config: { ...img.config.config }, history: [...(img.config.history ?? [])] };
      env = img.config.config.Env ?? [];
      for (const e of env) {
        const i = e.indexOf('=');
        st = st.addEnv(e.slice(0, i), e.slice(i + 1));
      }
    }
    const history = (createdBy: string, layer: boolean) => config.history.push({ created_by: createdBy, comment: 'spec frontend', ...(layer ? {} : { empty_layer: true }) });
    for (const [k, val] of Object.entries(spec.env ?? {})) {
      st = st.addEnv(k, String(val));
      env = [...env.filter((e: string) => !e.startsWith(`${k}=`)), `${k}=${val}`];
      history(`ENV ${k}=${val}`, false);
    }
    if (spec.workdir) {
      st = st.dir(spec.workdir).file(llb.mkdir(spec.workdir, 0o755, { makeParents: true }), { customName: `workdir ${spec.workdir}` });
      config.config.WorkingDir = spec.workdir;
      history(`WORKDIR ${spec.workdir}`, true);
    }
    for (const [path, content] of Object.entries(spec.files ?? {})) {
      const dir = path.slice(0, path.lastIndexOf('/')) || '/';
      st = st.file(llb.mkdir(dir, 0o755, { makeParents: true }).mkfile(path, 0o644, String(content)), { customName: `file ${path}` });
      history(`FILE ${path}`, true);
    }
    const context = llb.local('context', { customName: '[context] load from client' });
    for (const c of spec.copy ?? []) {
      st = st.file(llb.copy(context, c.from, c.to, { dirCopyContents: true, createDestPath: true, allowWildcard: true }), { customName: `copy ${c.from} ${c.to}` });
      history(`COPY ${c.from} ${c.to}`, true);
    }
    for (const cmd of spec.run ?? []) {
      st = st.run({ args: ['/bin/sh', '-c', cmd], customName: `run ${cmd}` }).root();
      history(`RUN ${cmd}`, true);
    }
    config.config.Env = env;
    if (spec.entrypoint) config.config.Entrypoint = spec.entrypoint;
    if (spec.cmd) config.config.Cmd = spec.cmd;
    config.config.Labels = { ...(config.config.Labels ?? {}), ...(spec.labels ?? {}), ...ctx.opts.labels };
    return { definition: st.marshal(), config };
  },
};
