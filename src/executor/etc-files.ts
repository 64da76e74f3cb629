/**
 * The /etc/hosts and /etc/resolv.conf a RUN step sees. They are generated on the host and
 * bind-mounted read-only, so they never become part of the rootfs (as in BuildKit).
 */
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { KilnError } from '../util/errors.ts';

export const DEFAULT_HOSTNAME = 'buildkitsandbox';

const DEFAULT_NAMESERVERS = ['8.8.8.8', '8.8.4.4', '2001:4860:4860::8888', '2001:4860:4860::8844'];

/**
 * BuildKit's hosts file: localhost + the hostname, IPv6 localhost names, then extra hosts.
 * Throws a usage KilnError for an extra host whose IP is not an IP or whose name has blanks.
 */
export function hostsFileContent(hostname: string, extraHosts: { host: string; ip: string }[] = []): string {
  if (/\s/.test(hostname)) throw new KilnError(`invalid hostname ${JSON.stringify(hostname)}`, { kind: 'usage' });
  let out = `127.0.0.1\tlocalhost ${hostname || DEFAULT_HOSTNAME}\n::1\tlocalhost ip6-localhost ip6-loopback\n`;
  for (const h of extraHosts) {
    if (isIP(h.ip) === 0 || !/^[^\s#]+$/.test(h.host)) {
      throw new KilnError(`invalid extra host ${JSON.stringify(`${h.host}:${h.ip}`)}`, {
        kind: 'usage',
        hint: 'use NAME:IP with an IPv4 or IPv6 address, e.g. --add-host registry.local:10.0.0.5',
      });
    }
    out += `${h.ip}\t${h.host}\n`;
  }
  return out;
}

function isLoopback(addr: string): boolean {
  const ip = addr.split('%')[0]!;
  if (isIP(ip) === 4) return ip.startsWith('127.');
  if (isIP(ip) === 6) return ip === '::1' || /^0*:0*:0*:0*:0*:0*:0*:0*1$/.test(ip);
  return false;
}

/**
 * resolv.conf for the container. Host network gets the host's file unchanged (a resolver on
 * the host's loopback is reachable). Otherwise loopback nameservers are dropped, and when none
 * is left Docker's public defaults are used, like BuildKit's TransformForLegacyNw.
 */
export function resolvConfContent(hostResolvConf: string, network: 'host' | 'none'): string {
  const lines = hostResolvConf.split('\n');
  const isNs = (l: string) => /^\s*nameserver\s/.test(l);
  const nsAddr = (l: string) => l.trim().split(/\s+/)[1] ?? '';
  if (network === 'host' && lines.some(isNs)) return hostResolvConf;
  const kept = lines.filter((l) => !(isNs(l) && (network !== 'host' && isLoopback(nsAddr(l)))));
  let out = kept.join('\n').replace(/\n+$/, '');
  if (!kept.some(isNs)) {
    out += (out ? '\n\n' : '') + DEFAULT_NAMESERVERS.map((ns) => `nameserver ${ns}`).join('\n');
  }
  return out + '\n';
}

/** The host's /etc/resolv.conf; empty when it does not exist. */
export async function readHostResolvConf(path = '/etc/resolv.conf'): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw err;
  }
}
