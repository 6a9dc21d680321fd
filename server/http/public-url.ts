import type { Request } from 'express';
import type { TLSSocket } from 'node:tls';
import type { TrustFunction } from '../config/trusted-proxies';

/**
 * The URL a caller used to reach `path`, as the caller saw it: what the WSDL's soap:address
 * must name, or clients built from the WSDL would call an address they cannot reach.
 *
 * Directly connected callers: this server's scheme and the Host header. Behind a trusted proxy
 * (`--trust-proxy`): X-Forwarded-Proto, -Host, -Port and -Prefix, each falling back to the
 * direct value when missing or malformed. A port inside X-Forwarded-Host wins over
 * X-Forwarded-Port: the Host a client sent is the one it used, even through port mapping,
 * while X-Forwarded-Port is what the proxy listens on.
 */
export function publicUrl(req: Request, path: string): string {
  const trust = req.app.get('trust proxy fn') as TrustFunction | undefined;
  const viaProxy = typeof trust === 'function' && trust(req.socket.remoteAddress, 0);
  const forwarded = (name: string) => (viaProxy ? firstValue(req.get(name)) : undefined);

  const ownScheme = (req.socket as TLSSocket).encrypted ? 'https' : 'http';
  const proto = forwarded('x-forwarded-proto')?.toLowerCase();
  const scheme = proto === 'http' || proto === 'https' ? proto : ownScheme;

  const authority = parseAuthority(forwarded('x-forwarded-host')) ?? parseAuthority(req.get('host')) ?? ownAuthority(req);
  const forwardedPort = parsePort(forwarded('x-forwarded-port'));
  const port = authority.port ?? forwardedPort;
  const shownPort = port === undefined || port === DEFAULT_PORTS[scheme] ? '' : `:${port}`;

  const prefix = parsePrefix(forwarded('x-forwarded-prefix')) ?? '';
  return `${scheme}://${authority.host}${shownPort}${prefix}${path}`;
}

const DEFAULT_PORTS: Readonly<Record<string, number>> = { http: 80, https: 443 };

interface Authority {
  readonly host: string;
  readonly port?: number;
}

/** Proxies may append to a header; the first value is the one nearest the client. */
function firstValue(value: string | undefined): string | undefined {
  const first = value?.split(',', 1)[0].trim();
  return first === '' ? undefined : first;
}

/** `name[:port]` or `[v6][:port]`; anything else (markup, spaces, userinfo) is refused. */
function parseAuthority(value: string | undefined): Authority | undefined {
  const match = value === undefined ? null : /^([A-Za-z0-9_.-]+|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?$/.exec(value);
  if (match === null) return undefined;
  const port = match[2] === undefined ? undefined : parsePort(match[2]);
  if (match[2] !== undefined && port === undefined) return undefined;
  return { host: match[1].toLowerCase(), port };
}

function parsePort(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{1,5}$/.test(value)) return undefined;
  const port = Number(value);
  return port >= 1 && port <= 65535 ? port : undefined;
}

/** A path prefix the proxy strips, e.g. /deploy; a lone / or an unsafe value adds nothing. */
function parsePrefix(value: string | undefined): string | undefined {
  if (value === undefined || !/^(\/[A-Za-z0-9._~-]+)+\/?$/.test(value)) return undefined;
  return value.replace(/\/$/, '');
}

/** Without a usable Host header (HTTP/1.0, or garbage): the address the request came in on. */
function ownAuthority(req: Request): Authority {
  const { localAddress, localPort } = req.socket;
  if (localAddress === undefined) return { host: 'localhost' };
  const host = localAddress.startsWith('::ffff:') ? localAddress.slice(7) : localAddress;
  return { host: host.includes(':') ? `[${host}]` : host, port: localPort };
}
