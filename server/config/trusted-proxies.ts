import { BlockList, isIP } from 'node:net';

/**
 * Which peers may tell the gateway, in X-Forwarded-* headers, who the client is and which URL
 * it used (`--trust-proxy`). Anyone can send those headers; only a proxy we know overwrites
 * them with the truth, so they count only when the connection comes from such a proxy.
 */
export interface TrustProxy {
  /** As given: addresses, CIDR ranges and the names below. */
  readonly entries: readonly string[];
}

/** The names Express also knows; `loopback` covers unix-socket peers too (see trustFunction). */
const NAMED_RANGES: Readonly<Record<string, readonly string[]>> = {
  loopback: ['127.0.0.0/8', '::1/128'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
};

/** Express's `trust proxy` callback: is the peer at `hop` (0 = the connection itself) trusted? */
export type TrustFunction = (address: string | undefined, hop: number) => boolean;

/** Parses the comma-separated list of an option (`--trust-proxy`, `--no-auth-from`); every bad entry becomes a problem. */
export function parseTrustProxy(text: string, problems: string[], option = 'trust-proxy'): TrustProxy | undefined {
  const entries = text
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  if (entries.length === 0) {
    problems.push(`${option} is empty: give addresses or ranges, e.g. loopback or 10.0.0.5,192.168.1.0/24`);
    return undefined;
  }
  const bad = entries.filter((entry) => !Object.hasOwn(NAMED_RANGES, entry) && parseRange(entry) === undefined);
  if (bad.length > 0) {
    problems.push(
      `${option}: ${bad.map((entry) => `"${entry}"`).join(', ')} is not an IP address, a CIDR range (10.0.0.0/8) or one of ${Object.keys(NAMED_RANGES).join(', ')}`,
    );
    return undefined;
  }
  return Object.freeze({ entries: Object.freeze(entries) });
}

/** Whether an address lies in one of the list's ranges; IPv4-mapped IPv6 addresses match IPv4 ranges. */
export function addressMatcher(trust: TrustProxy): (address: string | undefined) => boolean {
  const list = new BlockList();
  for (const range of trust.entries.flatMap((entry) => NAMED_RANGES[entry] ?? [entry])) {
    const parsed = parseRange(range)!;
    list.addSubnet(parsed.address, parsed.prefix, parsed.family);
  }
  return (address) => {
    const family = address === undefined ? 0 : isIP(address);
    return family !== 0 && list.check(address!, family === 4 ? 'ipv4' : 'ipv6');
  };
}

/**
 * Without a list nobody is trusted: the headers are ignored. A unix-socket peer has no address;
 * it is trusted with `loopback`, since it is a process on this machine that the socket's file
 * permissions let in. Only when the gateway listens on a socket, though: a TCP connection has no
 * address either once it is closed, and must not pass for a socket peer then.
 */
export function trustFunction(trust: TrustProxy | undefined, listensOnSocket: boolean): TrustFunction {
  if (trust === undefined) return () => false;
  const matches = addressMatcher(trust);
  const trustsSocketPeers = listensOnSocket && trust.entries.includes('loopback');
  return (address, hop) => (address === undefined ? hop === 0 && trustsSocketPeers : matches(address));
}

interface Range {
  readonly address: string;
  readonly prefix: number;
  readonly family: 'ipv4' | 'ipv6';
}

function parseRange(text: string): Range | undefined {
  const [address, prefixText, ...rest] = text.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return undefined;
  const bits = family === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? bits : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (!(prefix >= 0 && prefix <= bits)) return undefined;
  return { address, prefix, family: family === 4 ? 'ipv4' : 'ipv6' };
}
