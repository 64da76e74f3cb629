/** The registry client's public surface. */
export { createRegistryClient } from './client.ts';
export type { BlobStream, Credentials, FetchedManifest, RegistryClient, RegistryClientOptions, ResolvedImage } from './client.ts';
export { isNotFoundError, isUnauthorizedError, type RegistryError } from './errors.ts';
export { selectPlatformManifest } from './manifest.ts';
export { apiHost, registryBaseUrl, useHttp } from './hosts.ts';
export { parseWwwAuthenticate, type Challenge } from './auth.ts';
export { dockerCredentials, storeCredentials, eraseCredentials, dockerConfigPath } from './docker-credentials.ts';
