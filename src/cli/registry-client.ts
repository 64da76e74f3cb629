import { createRegistryClient, dockerCredentials, type RegistryClient } from '../registry/index.ts';
import type { BuildRequest } from './request.ts';

/** The registry client of a build: docker's credentials, the config file's mirrors and http hosts. */
export function registryClientFor(req: Pick<BuildRequest, 'registry'>): RegistryClient {
  const mirrors = req.registry.mirrors;
  return createRegistryClient({
    credentials: dockerCredentials(),
    insecureHosts: req.registry.insecureHosts,
    mirrors: (domain) => mirrors[domain] ?? (domain === 'index.docker.io' ? mirrors['docker.io'] : undefined),
  });
}
