/**
 * SLSA provenance (v1) wrapped in an in-toto statement, with the fields BuildKit fills
 * (docs/attestations/slsa-definitions.md): build type, frontend request, resolved
 * dependencies with digests, builder platform, invocation id and times, completeness. `min`
 * mode leaves out build arguments and sources; `max` adds the frontend options (build args,
 * target, ...) and the build files. Secrets are never part of either.
 */
import type { Digest } from '../util/digest.ts';

export const SLSA_V1 = 'https://slsa.dev/provenance/v1';
export const IN_TOTO_STATEMENT = 'https://in-toto.io/Statement/v0.1';
export const BUILDKIT_BUILD_TYPE = 'https://github.com/moby/buildkit/blob/master/docs/attestations/slsa-definitions.md';

export interface ProvenanceInput {
  mode: 'min' | 'max';
  frontend: string;
  /** Frontend options as the request carried them (build-arg:K, target, filename, ...): max mode only. */
  args: Record<string, string>;
  /** Local sources the build read (context, dockerfile). */
  locals: string[];
  /** The build file's path inside its source, e.g. `Dockerfile`. */
  configPath: string;
  /** Sources with immutable digests: `pkg:docker/...` purls, https URLs, git URLs. */
  materials: { uri: string; digest: Record<string, string> }[];
  builderPlatform: string;
  invocationId: string;
  startedOn: Date;
  finishedOn: Date;
  /** Build files by name (max mode): recorded base64, as BuildKit's `buildkit_metadata.source`. */
  sources?: Record<string, string>;
  builderId?: string;
  reproducible?: boolean;
}

const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** The in-toto statement (JSON bytes) about `subject` (an image manifest digest, and its purl name). */
export function provenanceStatement(p: ProvenanceInput, subject: { digest: Digest; name: string }): Uint8Array {
  const request: Record<string, unknown> = { frontend: p.frontend };
  if (p.mode === 'max') request.args = p.args;
  request.locals = p.locals.map((name) => ({ name }));
  const metadata: Record<string, unknown> = {
    invocationID: p.invocationId,
    startedOn: iso(p.startedOn),
    finishedOn: iso(p.finishedOn),
    buildkit_completeness: { request: p.mode === 'max', resolvedDependencies: true },
    buildkit_hermetic: false,
    buildkit_reproducible: !!p.reproducible,
  };
  if (p.mode === 'max' && p.sources) {
    metadata.buildkit_metadata = {
      source: {
        infos: Object.entries(p.sources).map(([filename, text]) => ({ filename, language: 'Dockerfile', data: Buffer.from(text).toString('base64') })),
      },
    };
  }
  const statement = {
    _type: IN_TOTO_STATEMENT,
    predicateType: SLSA_V1,
    subject: [{ name: subject.name, digest: { sha256: subject.digest.replace(/^sha256:/, '') } }],
    predicate: {
      buildDefinition: {
        buildType: BUILDKIT_BUILD_TYPE,
        externalParameters: { configSource: { path: p.configPath }, request },
        internalParameters: { builderPlatform: p.builderPlatform },
        resolvedDependencies: p.materials,
      },
      runDetails: { builder: { id: p.builderId ?? '' }, metadata },
    },
  };
  return new TextEncoder().encode(JSON.stringify(statement, null, 2));
}
