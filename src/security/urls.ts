import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { Agent } from 'undici';
import { requestFetcher } from '../http/outbound.ts';

/**
 * Outbound URLs a merchant gives us (callback URLs) must not reach our own
 * network (SSRF): loopback, private, link-local, CGNAT, multicast and
 * unspecified ranges are refused for production projects. Test projects may
 * use them (a merchant's laptop receiver on 127.0.0.1) while the platform
 * setting TEST_PROJECTS_ALLOW_PRIVATE_URLS is on (the default).
 * The check happens twice: on the URL when it is given, and on every address
 * the name resolves to at connection time (so DNS rebinding cannot dodge it).
 */
const privateRanges = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) {
  privateRanges.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8], ['64:ff9b::', 96]] as const) {
  privateRanges.addSubnet(network, prefix, 'ipv6');
}

export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  if (family === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped) return privateRanges.check(mapped[1], 'ipv4');
    return privateRanges.check(address, 'ipv6');
  }
  return privateRanges.check(address, 'ipv4');
}

/** Why a URL may not be used, or undefined when it may. Literal hosts only: names are checked when connecting. */
export function urlRefusal(raw: string, allowPrivate: boolean): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'is not a URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must be http or https';
  if (url.username || url.password) return 'must not carry credentials';
  if (allowPrivate) return undefined;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (host === 'localhost' || host.endsWith('.localhost') || host.endsWith('.internal') || host.endsWith('.local')) return 'must not point to a local host';
  if (isPrivateAddress(host)) return 'must not point to a private, loopback or link-local address';
  return undefined;
}

export class PrivateAddressError extends Error {
  readonly code = 'EPRIVATEADDRESS';
}

/** A DNS lookup that fails for names resolving to private addresses. */
function publicOnlyLookup(hostname: string, options: object, callback: (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void) {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, '');
    const list = addresses as LookupAddress[];
    const refused = list.find((entry) => isPrivateAddress(entry.address));
    if (refused) return callback(new PrivateAddressError(`${hostname} resolves to a private address`), '');
    if ((options as { all?: boolean }).all) return callback(null, list);
    return callback(null, list[0].address, list[0].family);
  });
}

/** HTTP clients for callback delivery: one that refuses private addresses, one that does not (test projects). */
export const publicOnlyFetcher = requestFetcher(new Agent({ connect: { lookup: publicOnlyLookup as never } }));
export const anyAddressFetcher = requestFetcher(new Agent());
