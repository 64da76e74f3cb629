/**
 * A kiln frontend that builds a Node.js app from its package.json, with no Dockerfile:
 *
 *   kiln build --frontend examples/frontends/node-app/frontend.ts -f package.json -t app .
 *
 * The image: BASE (build arg, default node:22-slim) + the app in /app (package.json and the
 * lock file first, `npm ci --omit=dev` when there are dependencies and INSTALL is not "false",
 * then the sources, .dockerignore respected), NODE_ENV=production, a non-root user when the
 * base has `node`, and CMD from `scripts.start` or `main`. Labels from name and version.
 */
export default {
  name: 'node-app',
  apiVersion: 1,
  async build(ctx: any) {
    const { llb, opts } = ctx;
    const pkgFile = opts.filename === 'Dockerfile' ? 'package.json' : opts.filename;
    let pkg: any;
    try {
      pkg = JSON.parse(new TextDecoder().decode(await ctx.inputs.readFile('dockerfile', pkgFile)));
    } catch (err) {
      throw new Error(`cannot read ${pkgFile}: ${(err as Error).message}`);
    }
    const platform = opts.platforms[0];
    const baseRef = opts.buildArgs.BASE ?? 'node:22-slim';
    const base = await ctx.resolveImageConfig(baseRef, platform);
    let st = llb.image(base.ref, { platform });
    const env: string[] = [...(base.config.config.Env ?? []).filter((e: string) => !e.startsWith('NODE_ENV=')), 'NODE_ENV=production'];
    for (const e of env) st = st.addEnv(e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1));
    st = st.dir('/app').file(llb.mkdir('/app', 0o755, { makeParents: true }), { customName: 'mkdir /app' });
    const context = llb.local('context', { customName: '[context] load from client' });
    const history = [...(base.config.history ?? [])];
    const step = (createdBy: string, empty = false) => history.push({ created_by: createdBy, comment: 'node-app frontend', ...(empty ? { empty_layer: true } : {}) });
    step('WORKDIR /app');
    const manifests = ['package.json'];
    if (await ctx.inputs.stat('context', 'package-lock.json')) manifests.push('package-lock.json');
    for (const m of manifests) {
      st = st.file(llb.copy(context, m, `/app/${m}`, { createDestPath: true }), { customName: `copy ${m}` });
      step(`COPY ${m} /app/`);
    }
    const deps = Object.keys(pkg.dependencies ?? {}).length > 0;
    if (deps && opts.buildArgs.INSTALL !== 'false') {
      const cmd = manifests.includes('package-lock.json') ? 'npm ci --omit=dev' : 'npm install --omit=dev';
      st = st.run({ args: ['/bin/sh', '-c', cmd], customName: cmd, mounts: [{ type: 'cache', dest: '/root/.npm', cache: { id: 'npm', sharing: 'shared' }, source: llb.scratch() }] }).root();
      step(`RUN ${cmd}`);
    }
    st = st.file(llb.copy(context, '.', '/app', { dirCopyContents: true, excludePatterns: ['node_modules', '.git'] }), { customName: 'copy sources' });
    step('COPY . /app');
    const cmd = pkg.scripts?.start ? ['npm', 'start'] : ['node', pkg.main ?? 'index.js'];
    const labels: Record<string, string> = { ...(base.config.config.Labels ?? {}), ...opts.labels };
    if (pkg.name) labels['org.opencontainers.image.title'] = String(pkg.name);
    if (pkg.version) labels['org.opencontainers.image.version'] = String(pkg.version);
    if (pkg.description) labels['org.opencontainers.image.description'] = String(pkg.description);
    step(`CMD ${JSON.stringify(cmd)}`, true);
    const config = {
      ...base.config,
      config: { ...base.config.config, Env: env, WorkingDir: '/app', Cmd: cmd, Entrypoint: null, Labels: labels },
      history,
    };
    return { definition: st.marshal(), config };
  },
};
