import { usageError } from '../util/errors.ts';
import { createOciExporter, createDockerExporter, createTarExporter, createLocalExporter } from '../exporter/index.ts';
import type { Exporter } from '../exporter/types.ts';
import type { OutputSpec } from './request.ts';
import type { ImageOptions } from './image-options.ts';

const KNOWN = ['image', 'registry', 'oci', 'docker', 'tar', 'local', 'cacheonly'];

/** `platform-split` (local, tar): a directory per platform in a multi-platform build (default true). */
function platformSplit(spec: OutputSpec): boolean {
  const v = spec.attrs['platform-split'];
  if (v === undefined || v === 'true' || v === '1' || v === '') return true;
  if (v === 'false' || v === '0') return false;
  throw usageError(`output type=${spec.type}: platform-split must be true or false, not "${v}"`);
}

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
      return createTarExporter({ dest: needDest(), platformSplit: platformSplit(spec) });
    case 'local':
      return createLocalExporter({ dest: needDest(), platformSplit: platformSplit(spec) });
    default:
      throw usageError(`unsupported output type "${spec.type}"`, `kiln knows: ${KNOWN.join(', ')}`);
  }
}
