/**
 * What the provenance of a build records, gathered from the request and the solved LLB:
 * materials are the definition's sources that carry an immutable digest (images pinned by
 * the resolver, http sources with a checksum, git sources at a commit).
 */
import { randomBytes } from 'node:crypto';
import type { Definition } from '../llb/types.ts';
import type { ProvenanceInput } from '../exporter/provenance.ts';
import { formatPlatform, hostPlatform } from '../oci/platform.ts';
import type { BuildRequest } from './request.ts';

/** `pkg:docker/REPO@TAG?platform=..` for an image source identifier pinned by digest. */
function imagePurl(ref: string, platform?: string): { uri: string; digest: Record<string, string> } | undefined {
  const m = /^(.+?)(?::([^:/@]+))?@sha256:([0-9a-f]{64})$/.exec(ref);
  if (!m) return undefined;
  const q = platform ? `?platform=${encodeURIComponent(platform)}` : '';
  return { uri: `pkg:docker/${m[1]}@${m[2] ?? 'latest'}${q}`, digest: { sha256: m[3]! } };
}

export function provenanceInput(req: BuildRequest, def: Definition, buildFile: string, mode: 'min' | 'max', startedOn: Date, builderId?: string): ProvenanceInput {
  const materials = new Map<string, { uri: string; digest: Record<string, string> }>();
  for (const { op } of def.ops) {
    const body = op.op;
    if (body.type !== 'source') continue;
    const id = body.identifier;
    const plat = op.platform ? formatPlatform(op.platform) : undefined;
    if (id.startsWith('docker-image://')) {
      const m = imagePurl(id.slice('docker-image://'.length), plat);
      if (m) materials.set(m.uri + JSON.stringify(m.digest), m);
    } else if (/^https?:\/\//.test(id)) {
      const sum = body.attrs?.['http.checksum'];
      if (sum?.startsWith('sha256:')) materials.set(id, { uri: id, digest: { sha256: sum.slice(7) } });
    } else if (id.startsWith('git://')) {
      const commit = body.attrs?.['git.commit'] ?? /#([0-9a-f]{40})$/.exec(id)?.[1];
      if (commit) materials.set(id, { uri: id, digest: { sha1: commit } });
    }
  }
  const args: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.buildArgs)) args[`build-arg:${k}`] = v;
  for (const [k, v] of Object.entries(req.labels)) args[`label:${k}`] = v;
  if (req.target) args.target = req.target;
  for (const [k, v] of Object.entries(req.opts)) if (!(k in args) && !k.startsWith('attest:')) args[k] = v;
  return {
    mode,
    frontend: req.frontend,
    args,
    locals: Object.keys(req.locals).sort(),
    configPath: req.filename,
    materials: [...materials.values()],
    builderPlatform: formatPlatform(hostPlatform()),
    invocationId: randomBytes(16).toString('hex'),
    startedOn,
    finishedOn: new Date(),
    sources: mode === 'max' && buildFile ? { [req.filename]: buildFile } : undefined,
    builderId,
  };
}
