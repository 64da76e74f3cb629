/**
 * Where a reference's domain is served: API host and scheme. Pure functions.
 */

/** Docker Hub's API endpoint for the `docker.io` domain. */
export const DOCKER_HUB_API_HOST = 'registry-1.docker.io';

/** The host[:port] that serves the distribution API for `domain` (`docker.io` → `registry-1.docker.io`). */
export function apiHost(domain: string): string {
  return domain === 'docker.io' || domain === 'index.docker.io' ? DOCKER_HUB_API_HOST : domain;
}

/** `host:port` → `host` (IPv6 brackets kept: `[::1]:5000` → `[::1]`). */
export function hostWithoutPort(hostPort: string): string {
  if (hostPort.startsWith('[')) {
    const end = hostPort.indexOf(']');
    return end < 0 ? hostPort : hostPort.slice(0, end + 1);
  }
  const colon = hostPort.lastIndexOf(':');
  return colon < 0 ? hostPort : hostPort.slice(0, colon);
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/**
 * Plain http for loopback hosts (any port, as docker does) and for `insecureHosts`
 * (an entry matches `host:port` exactly or `host` on any port); https otherwise.
 */
export function useHttp(domain: string, insecureHosts: readonly string[] = []): boolean {
  const host = hostWithoutPort(domain);
  if (LOOPBACK.has(host.toLowerCase())) return true;
  return insecureHosts.some((h) => h === domain || h === host);
}

/** `http://127.0.0.1:5000` or `https://registry-1.docker.io`. */
export function registryBaseUrl(domain: string, insecureHosts: readonly string[] = []): string {
  return `${useHttp(domain, insecureHosts) ? 'http' : 'https'}://${apiHost(domain)}`;
}
