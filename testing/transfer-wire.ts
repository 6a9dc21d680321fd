import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { TARGET_NAMESPACE } from '../protocol/operations';
import { basicAuthHeader } from './soap-test-client';

/**
 * Transfer requests and answers built and read by hand, independently of the gateway's own
 * MTOM code, so that tests check the wire format rather than agree with themselves. Everything
 * is in memory: these are for test-sized files (tens of MiB).
 */
export type PartValue = string | Buffer;
export type Parts = readonly (readonly [string, PartValue])[];

const SOAP = 'http://schemas.xmlsoap.org/soap/envelope/';
const XOP = 'http://www.w3.org/2004/08/xop/include';

export interface WireRequest {
  readonly contentType: string;
  readonly body: Buffer;
}

function wrap(operation: string, inner: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="${SOAP}"><soapenv:Header/><soapenv:Body><ns:${operation} xmlns:ns="${TARGET_NAMESPACE}">${inner}</ns:${operation}></soapenv:Body></soapenv:Envelope>`;
}

const escapeText = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Files inline as base64, as zeep and other stacks without MTOM send them (here with line breaks every 76 characters, as some do). */
export function inlineRequest(operation: string, parts: Parts): WireRequest {
  const inner = parts
    .map(([name, value]) => `<ns:${name}>${typeof value === 'string' ? escapeText(value) : value.toString('base64').replace(/.{76}/g, '$&\n')}</ns:${name}>`)
    .join('');
  return { contentType: 'text/xml; charset=utf-8', body: Buffer.from(wrap(operation, inner)) };
}

/** MTOM as Axis2 sends it: a root part, then one binary part per file, referenced by cid. */
export function mtomRequest(operation: string, parts: Parts, boundary = 'MIMEBoundary_test0123456789'): WireRequest {
  const attachments: Buffer[] = [];
  const inner = parts
    .map(([name, value], index) => {
      if (typeof value === 'string') return `<ns:${name}>${escapeText(value)}</ns:${name}>`;
      const cid = `${index}.attachment@test`;
      attachments.push(
        Buffer.from(`\r\n--${boundary}\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\nContent-ID: <${cid}>\r\n\r\n`),
        value,
      );
      return `<ns:${name}><xop:Include xmlns:xop="${XOP}" href="cid:${encodeURIComponent(cid)}"/></ns:${name}>`;
    })
    .join('');
  const root = Buffer.from(
    `--${boundary}\r\nContent-Type: application/xop+xml; charset=UTF-8; type="text/xml"\r\nContent-Transfer-Encoding: binary\r\nContent-ID: <root.message@test>\r\n\r\n${wrap(operation, inner)}`,
  );
  return {
    contentType: `multipart/related; boundary="${boundary}"; type="application/xop+xml"; start="<root.message@test>"; start-info="text/xml"`,
    body: Buffer.concat([root, ...attachments, Buffer.from(`\r\n--${boundary}--\r\n`)]),
  };
}

export interface WireAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly body: Buffer;
  readonly headers: Record<string, string | string[] | undefined>;
}

export function post(
  url: string,
  auth: { username: string; password: string },
  request: WireRequest,
  headers: Record<string, string> = {},
): Promise<WireAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method: 'POST',
        agent: false,
        headers: {
          'Content-Type': request.contentType,
          'Content-Length': request.body.length,
          SOAPAction: '""',
          Authorization: basicAuthHeader(auth.username, auth.password),
          ...headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), body: Buffer.concat(chunks), headers: res.headers }),
        );
      },
    );
    req.on('error', reject);
    req.end(request.body);
  });
}

/** The `return` values of an answer, MTOM or not: binary ones as Buffers when `binary`. */
export function returnsOf(answer: WireAnswer, binary: boolean): (string | Buffer)[] {
  const { root, parts } = splitAnswer(answer);
  const values: (string | Buffer)[] = [];
  for (const match of root.matchAll(/<(?:\w+:)?return(?:\s[^>]*)?>([\s\S]*?)<\/(?:\w+:)?return>|<(?:\w+:)?return\s*\/>/g)) {
    const inner = match[1] ?? '';
    const include = /<(?:\w+:)?Include[^>]*href="cid:([^"]+)"/.exec(inner);
    if (include) {
      const part = parts.get(decodeURIComponent(include[1]));
      if (!part) throw new Error(`the answer refers to cid:${include[1]}, which it does not hold`);
      values.push(part);
    } else {
      values.push(binary ? Buffer.from(inner, 'base64') : inner.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&'));
    }
  }
  return values;
}

export function faultOf(answer: WireAnswer): string | undefined {
  const match = /<faultstring>([\s\S]*?)<\/faultstring>/.exec(splitAnswer(answer).root);
  return match?.[1]
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}

/** The root XML and the binary parts by Content-ID, of an MTOM answer; of a plain one, its text. */
export function splitAnswer(answer: WireAnswer): { root: string; parts: Map<string, Buffer>; locations: Map<string, string> } {
  const boundary = /boundary="?([^";]+)"?/.exec(answer.contentType)?.[1];
  if (!answer.contentType.startsWith('multipart/related') || !boundary) return { root: answer.body.toString('utf8'), parts: new Map(), locations: new Map() };
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  const body = Buffer.concat([Buffer.from('\r\n'), answer.body]);
  const parts = new Map<string, Buffer>();
  const locations = new Map<string, string>();
  let root = '';
  let at = body.indexOf(delimiter);
  while (at >= 0) {
    const start = at + delimiter.length;
    if (body.subarray(start, start + 2).toString() === '--') break;
    const next = body.indexOf(delimiter, start);
    if (next < 0) throw new Error('the multipart answer has no closing delimiter');
    const part = body.subarray(start + 2, next);
    const headerEnd = part.indexOf('\r\n\r\n');
    const headers = part.subarray(0, headerEnd).toString('latin1');
    const content = part.subarray(headerEnd + 4);
    const id = /content-id:\s*<([^>]+)>/i.exec(headers)?.[1] ?? '';
    const location = /content-location:\s*(\S+)/i.exec(headers)?.[1];
    if (/application\/xop\+xml/i.test(headers)) root = content.toString('utf8');
    else parts.set(id, Buffer.from(content));
    if (location) locations.set(id, location);
    at = next;
  }
  return { root, parts, locations };
}

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
