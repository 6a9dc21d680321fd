import { type Agent, request as httpRequest } from 'node:http';
import { basicAuthHeader, envelope } from './soap-test-client';

/** A SOAP answer as it came, with the faultstring decoded and the return values read. */
export interface RawAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
  /** undefined: the answer holds no Fault. */
  readonly faultstring?: string;
  readonly returns: string[];
}

export interface PostOptions {
  readonly username?: string;
  readonly password?: string;
  readonly headers?: Record<string, string>;
  /** Bind the connection to this local address (e.g. 127.0.0.2: another client address). */
  readonly localAddress?: string;
  readonly timeoutMs?: number;
  /** Default: a fresh connection per call. */
  readonly agent?: Agent;
}

/** POSTs a body exactly as given, by default over a fresh connection (each call its own). */
export function postRaw(url: string, body: string | Buffer, options: PostOptions = {}): Promise<RawAnswer> {
  const headers: Record<string, string> = { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: '""', ...options.headers };
  if (options.username !== undefined) headers.Authorization = basicAuthHeader(options.username, options.password ?? '');
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'POST', headers, agent: options.agent ?? false, localAddress: options.localAddress }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, faultstring: faultstringOf(text), returns: returnsOf(text) });
      });
    });
    req.on('error', reject);
    if (options.timeoutMs) req.setTimeout(options.timeoutMs, () => req.destroy(new Error(`no answer within ${options.timeoutMs} ms`)));
    req.end(body);
  });
}

/** Calls an operation with document/literal parts given as XML text. */
export function callRaw(url: string, operation: string, inner: string, options: PostOptions = {}): Promise<RawAnswer> {
  return postRaw(url, envelope(operation, inner), options);
}

export function decodeXml(text: string): string {
  return text
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&#x([0-9a-f]+);/gi, (_m, hex: string) => String.fromCodePoint(parseInt(hex, 16)))
    .replace(/&#(\d+);/g, (_m, dec: string) => String.fromCodePoint(Number(dec)))
    .replace(/&amp;/g, '&');
}

function faultstringOf(xml: string): string | undefined {
  const match = /<faultstring>([\s\S]*?)<\/faultstring>/.exec(xml);
  return match ? decodeXml(match[1]) : undefined;
}

function returnsOf(xml: string): string[] {
  return [...xml.matchAll(/<(?:\w+:)?return(?:\s[^>]*)?(?:\/>|>([\s\S]*?)<\/(?:\w+:)?return>)/g)].map((m) => decodeXml(m[1] ?? ''));
}

/** The elements of a list part. */
export function items(part: string, values: readonly string[]): string {
  return values.map((value) => `<ns:${part}>${escapeText(value)}</ns:${part}>`).join('');
}

export function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
