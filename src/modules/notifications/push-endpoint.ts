import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { badInput } from '../../shared/errors';

/** Loopback, private, link-local and other non-public ranges a push endpoint must not reach in production. */
const PRIVATE = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  PRIVATE.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  PRIVATE.addSubnet(net, prefix, 'ipv6');

/** Whether an IP address is loopback, private, link-local (or otherwise not public). */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped) return PRIVATE.check(mapped[1], 'ipv4');
  }
  return PRIVATE.check(address, family === 6 ? 'ipv6' : 'ipv4');
}

const BASE64URL = /^[A-Za-z0-9_-]+={0,2}$/;

/** The endpoint rules: where the server may POST a user's push messages. */
export interface EndpointRules {
  /** Enforce https and public addresses. */
  production: boolean;
  /** Lower-cased hosts exempt from the address rule. */
  allowedHosts: readonly string[];
}

/**
 * Checks a Web Push subscription before it is stored. The server POSTs to URLs that users supply,
 * so in production the endpoint must be https and every address its host resolves to public,
 * unless the host is allowed (a private push service); outside production http is accepted too.
 * @throws DomainError BAD_USER_INPUT (field `endpoint`, `p256dh` or `auth`) otherwise.
 */
export async function checkPushSubscription(
  s: { endpoint: string; p256dh: string; auth: string },
  rules: EndpointRules,
): Promise<void> {
  if (!BASE64URL.test(s.p256dh) || s.p256dh.length > 200) throw badInput('p256dh must be base64url', 'p256dh');
  if (!BASE64URL.test(s.auth) || s.auth.length > 100) throw badInput('auth must be base64url', 'auth');
  let url: URL;
  try {
    url = new URL(s.endpoint);
  } catch {
    throw badInput('endpoint must be an https URL', 'endpoint');
  }
  const protocols = rules.production ? ['https:'] : ['https:', 'http:'];
  if (!protocols.includes(url.protocol) || s.endpoint.length > 2048 || url.username || url.password) {
    throw badInput('endpoint must be an https URL', 'endpoint');
  }
  if (!rules.production) return;
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (rules.allowedHosts.includes(host)) return;
  let addresses: string[];
  try {
    addresses = isIP(host) ? [host] : (await lookup(host, { all: true })).map((a) => a.address);
  } catch {
    throw badInput('endpoint host does not resolve', 'endpoint');
  }
  if (addresses.some(isPrivateAddress)) {
    throw badInput('endpoint must not resolve to a loopback, private or link-local address', 'endpoint');
  }
}
