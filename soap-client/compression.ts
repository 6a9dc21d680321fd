import { isIPv4, isIPv6 } from 'node:net';

/** When transfers compress: `auto` where it pays, `always`, or `never`. */
export type CompressMode = 'auto' | 'always' | 'never';

export const COMPRESS_MODES: readonly CompressMode[] = ['auto', 'always', 'never'];

/**
 * Whether a transfer to `url` compresses (gzip uploads, and asks for br or gzip downloads). `auto`
 * does so for every target but a loopback one: there the link costs nothing and compression's CPU
 * would make the transfer slower, however well the closure compresses.
 */
export function shouldCompress(mode: CompressMode, url: URL): boolean {
  if (mode !== 'auto') return mode === 'always';
  return !isLoopbackHost(url.hostname);
}

/** 127.0.0.0/8, ::1 (also as an IPv4-mapped address), and localhost with its subdomains. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '')
    .toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIPv4(host)) return host.startsWith('127.');
  if (isIPv6(host)) {
    // An IPv4-mapped address, as written or as URL writes it (::ffff:7f00:1 for 127.0.0.1).
    if (/^::ffff:127\.\d+\.\d+\.\d+$/.test(host) || /^::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}$/.test(host)) return true;
    return host === '::1' || /^(0{1,4}:){7}0{0,3}1$/.test(host);
  }
  return false;
}
