import { createRegistryClient, dockerCredentials, type RegistryClient } from '../registry/index.ts';
import type { HttpRequest } from '../registry/transport.ts';
import { tlsRequester, type TlsRequest } from '../platform/tls-request.ts';
import type { BuildRequest } from './request.ts';

/** The registry client of a build: docker's credentials, the config file's mirrors, http hosts and TLS settings. */
export function registryClientFor(req: Pick<BuildRequest, 'registry'>, signal?: AbortSignal): RegistryClient {
  const mirrors = req.registry.mirrors;
  const tls = req.registry.tls ?? {};
  const requesters = new Map<string, TlsRequest>();
  return createRegistryClient({
    credentials: dockerCredentials(),
    insecureHosts: req.registry.insecureHosts,
    stall: req.registry.network,
    signal,
    attempts: req.registry.network?.attempts,
    mirrors: (domain) => mirrors[domain] ?? (domain === 'index.docker.io' ? mirrors['docker.io'] : undefined),
    tlsRequest: (host: string) => {
      const t = tls[host];
      if (!t) return undefined;
      let r = requesters.get(host);
      if (!r) {
        r = tlsRequester({ ca: t.ca, cert: t.cert, key: t.key, rejectUnauthorized: !t.insecure });
        requesters.set(host, r);
      }
      // The body is a Readable with text(), async iteration and destroy(): what registries use of undici's.
      return r as unknown as HttpRequest;
    },
  });
}
