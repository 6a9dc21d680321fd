import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { TARGET_NAMESPACE } from '../protocol/operations';
import { escapeText } from './raw-soap';

/**
 * Requests byte for byte as the original Java disnix-soap-client sends them: Axis2 1.8's
 * RPCServiceClient with DisnixInterface's options (ENABLE_MTOM, MC_GZIP_REQUEST, MC_ACCEPT_GZIP)
 * over httpclient4. Built here, independently of the gateway, so that recordings of them test
 * the gateway against the Java client's wire format rather than against itself. No Java or Axis2
 * runs here; the format follows the Axis2/Axiom sources (see the protocol notes, section 5).
 */

/** A javax.activation.DataHandler argument: sent as an MTOM attachment. */
export interface Axis2File {
  readonly kind: 'file';
  readonly data: Buffer;
}

/** What a DisnixInterface method puts into its `Object[] args`. */
export type Axis2Arg = string | boolean | number | null | readonly string[] | Axis2File | readonly Axis2File[];

export const dataHandler = (data: Buffer): Axis2File => ({ kind: 'file', data });

export interface Axis2RequestOptions {
  /** Makes the MIME boundary and Content-IDs (random in Axis2) reproducible. */
  readonly seed: string;
  readonly path: string;
  /** The Host header; the recording is replayed to other ports, which the gateway does not mind. */
  readonly host: string;
}

const XSI = 'http://www.w3.org/2001/XMLSchema-instance';
const XOP = 'http://www.w3.org/2004/08/xop/include';
/** httpclient4's ChunkedOutputStream buffers this much per chunk. */
const CHUNK_SIZE = 2048;

/** Stand-ins for Axiom's random UUIDs, derived from the seed so that recordings are stable. */
class SeededIds {
  #count = 0;
  constructor(private readonly seed: string) {}

  hex(length: number): string {
    let out = '';
    while (out.length < length)
      out += createHash('sha256')
        .update(`${this.seed}#${this.#count++}`)
        .digest('hex');
    return out.slice(0, length);
  }

  uuid(): string {
    const h = this.hex(32);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }
}

const isFile = (value: unknown): value is Axis2File => typeof value === 'object' && value !== null && (value as Axis2File).kind === 'file';

/**
 * The children of the operation's wrapper, named as Axis2's BeanUtil.getOMElement names them:
 * a counter starts at 0; a null is `item<counter>` with xsi:nil and does NOT advance it; each
 * element of an array is `item<counter>` (an empty array: nothing), then the counter advances;
 * any other value is `arg<counter>`, then it advances. Children are unqualified, which under the
 * wrapper's default namespace serialises as xmlns="".
 */
function children(args: readonly Axis2Arg[], attach: (data: Buffer) => string): string {
  let counter = 0;
  let xml = '';
  const element = (name: string, inner: string) => `<${name} xmlns="">${inner}</${name}>`;
  const include = (file: Axis2File) => `<xop:Include xmlns:xop="${XOP}" href="cid:${attach(file.data)}"/>`;
  const scalar = (value: string | boolean | number | Axis2File): string => {
    if (isFile(value)) return include(value);
    if (typeof value === 'number' && !Number.isInteger(value)) throw new Error(`only ints are sent, not ${value}`);
    return escapeText(String(value));
  };
  for (const arg of args) {
    if (arg === null) {
      xml += `<item${counter} xmlns="" xmlns:xsi="${XSI}" xsi:nil="true"/>`;
      continue;
    }
    if (Array.isArray(arg)) {
      for (const value of arg as readonly (string | Axis2File)[]) xml += element(`item${counter}`, scalar(value));
    } else {
      xml += element(`arg${counter}`, scalar(arg as string | boolean | number | Axis2File));
    }
    counter++;
  }
  return xml;
}

/** The envelope as Axis2 writes it: an empty Header, the wrapper in the default namespace, the children as given. */
export function axis2Envelope(operation: string, childrenXml: string): string {
  return (
    `<?xml version='1.0' encoding='UTF-8'?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Header/>` +
    `<soapenv:Body><${operation} xmlns="${TARGET_NAMESPACE}">${childrenXml}</${operation}></soapenv:Body></soapenv:Envelope>`
  );
}

/** The whole HTTP/1.1 request: head, then the gzip-compressed MTOM package in chunks. */
export function axis2Request(operation: string, args: readonly Axis2Arg[], options: Axis2RequestOptions): Buffer {
  const ids = new SeededIds(options.seed);
  const boundary = `MIMEBoundary_${ids.hex(48)}`;
  const rootId = `0.urn:uuid:${ids.uuid()}@apache.org`;
  const attachments: { id: string; data: Buffer }[] = [];
  const attach = (data: Buffer): string => {
    const id = `${attachments.length + 1}.urn:uuid:${ids.uuid()}@apache.org`;
    attachments.push({ id, data });
    return id;
  };
  const envelope = axis2Envelope(operation, children(args, attach));

  const mime: Buffer[] = [
    Buffer.from(
      `--${boundary}\r\nContent-Type: application/xop+xml; charset=UTF-8; type="text/xml"\r\nContent-Transfer-Encoding: binary\r\n` +
        `Content-ID: <${rootId}>\r\n\r\n${envelope}`,
    ),
  ];
  for (const { id, data } of attachments) {
    mime.push(
      Buffer.from(`\r\n--${boundary}\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\nContent-ID: <${id}>\r\n\r\n`),
      data,
    );
  }
  mime.push(Buffer.from(`\r\n--${boundary}--\r\n`));
  // gzip's header holds a modification time; zlib writes 0 there, which keeps recordings stable.
  const body = gzipSync(Buffer.concat(mime));

  const head =
    `POST ${options.path} HTTP/1.1\r\n` +
    `Content-Type: multipart/related; boundary="${boundary}"; type="application/xop+xml"; start="<${rootId}>"; start-info="text/xml"\r\n` +
    'SOAPAction: ""\r\n' +
    'Content-Encoding: gzip\r\n' +
    'Accept-Encoding: gzip\r\n' +
    'User-Agent: Axis2\r\n' +
    'Transfer-Encoding: chunked\r\n' +
    `Host: ${options.host}\r\n` +
    'Connection: Keep-Alive\r\n' +
    '\r\n';
  return Buffer.concat([Buffer.from(head, 'latin1'), ...chunked(body)]);
}

function chunked(body: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < body.length; at += CHUNK_SIZE) {
    const chunk = body.subarray(at, at + CHUNK_SIZE);
    out.push(Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n'));
  }
  out.push(Buffer.from('0\r\n\r\n'));
  return out;
}
