import { usageError } from '../util/errors.ts';
import { createOciExporter, createDockerExporter, createTarExporter, createLocalExporter } from '../exporter/index.ts';
import type { Exporter } from '../exporter/types.ts';
import type { OutputSpec } from './request.ts';
import type { ImageOptions } from './image-options.ts';

const KNOWN = ['image', 'registry', 'oci', 'docker', 'tar', 'local', 'cacheonly'];

/** Maps an output spec to its exporter (the composition root's name → implementation table). */
export function exporterFor(spec: OutputSpec, image?: ImageOptions): Exporter {
  const dest = spec.attrs.dest;
  const needDest = () => {
    if (!dest) throw usageError(`output type=${spec.type} needs dest=`, `e.g. -o type=${spec.type},dest=${spec.type === 'local' ? 'DIR' : 'FILE'}`);
    return dest;
  };
  switch (spec.type) {
    case 'oci':
      return createOciExporter({ dest: needDest(), tar: spec.attrs.tar !== 'false', ociMediaTypes: image?.ociMediaTypes ?? true });
    case 'docker':
      return createDockerExporter({ dest: needDest(), ociMediaTypes: image?.ociMediaTypes ?? false });
    case 'tar':
      return createTarExporter({ dest: needDest() });
    case 'local':
      return createLocalExporter({ dest: needDest() });
    default:
      throw usageError(`unsupported output type "${spec.type}"`, `kiln knows: ${KNOWN.join(', ')}`);
  }
}
