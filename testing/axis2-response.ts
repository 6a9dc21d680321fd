import { gunzipSync } from 'node:zlib';
import { SaxesParser } from 'saxes';
import { bareContentId, contentIdOfHref, isMultipartRelated, parseMediaType } from '../protocol/codec/media-type';
import { MultipartReader, type PartHeaders } from '../protocol/codec/multipart-reader';
import type { HttpAnswer } from './axis2-http';

/**
 * Reads a gateway answer the way the Java disnix-soap-client (Axis2 1.8 RPCServiceClient with
 * BeanUtil) reads it: by position, never by element name. Anything the Java client would
 * choke on is an error here, so a test that reads an answer through this has shown that the
 * Java client could read it.
 */
export type JavaReturn = 'void' | 'String' | 'String[]' | 'DataHandler' | 'DataHandler[]';
export type JavaValue = undefined | string | null | string[] | Buffer | Buffer[];

const SOAP11 = 'http://schemas.xmlsoap.org/soap/envelope/';
const XOP = 'http://www.w3.org/2004/08/xop/include';

/** What AxisFault.getMessage() gives the Java client: the faultstring. */
export class Axis2Fault extends Error {
  constructor(
    readonly faultcode: string,
    readonly faultstring: string,
    readonly status: number,
  ) {
    super(faultstring);
  }
}

interface XmlElement {
  readonly uri: string;
  readonly local: string;
  readonly children: (XmlElement | string)[];
  /** Prefix -> namespace, everything in scope here (for QName values such as faultcode). */
  readonly scope: Readonly<Record<string, string>>;
}

export interface Axis2Answer {
  readonly status: number;
  /** The first child element of soapenv:Body (the operation's response wrapper). */
  readonly wrapper: XmlElement;
  /** The text of the wrapper's first child element: what a String return would be. */
  readonly firstText: string | null;
  readonly value: JavaValue;
}

/** Decodes and reads an answer; throws Axis2Fault for a SOAP Fault. */
export async function readAxis2Answer(answer: HttpAnswer, returns: JavaReturn): Promise<Axis2Answer> {
  const encoding = (answer.headers['content-encoding'] ?? 'identity').toLowerCase();
  if (encoding !== 'identity' && encoding !== 'gzip') throw new Error(`the Java client cannot decode Content-Encoding ${encoding}`);
  const body = encoding === 'gzip' ? gunzipSync(answer.body) : answer.body;
  const { root, parts } = await splitPackage(answer.headers['content-type'], body);
  const envelope = parseXml(root);
  if (envelope.uri !== SOAP11 || envelope.local !== 'Envelope') throw new Error(`the answer is no SOAP 1.1 envelope: {${envelope.uri}}${envelope.local}`);
  const soapBody = elements(envelope).find((child) => child.uri === SOAP11 && child.local === 'Body');
  const wrapper = soapBody && elements(soapBody)[0];
  if (!wrapper) throw new Error('the answer has no element in soapenv:Body');
  if (wrapper.uri === SOAP11 && wrapper.local === 'Fault') throw fault(wrapper, answer.status);

  const first = elements(wrapper)[0];
  const firstText = first ? textOf(first) : null;
  const run = first ? sameNameRun(wrapper, first) : [];
  let value: JavaValue;
  switch (returns) {
    case 'void':
      value = undefined;
      break;
    case 'String':
      value = firstText;
      break;
    case 'String[]':
      value = run.map(textOf);
      break;
    case 'DataHandler':
      value = first ? fileOf(first, parts) : null;
      break;
    case 'DataHandler[]':
      value = run.map((element) => fileOf(element, parts));
      break;
  }
  return { status: answer.status, wrapper, firstText, value };
}

/** An array, as BeanUtil.deserialize reads it: the first element and the following ones with its local name, up to the first other one. */
function sameNameRun(wrapper: XmlElement, first: XmlElement): XmlElement[] {
  const all = elements(wrapper);
  const run: XmlElement[] = [];
  for (const element of all.slice(all.indexOf(first))) {
    if (element.local !== first.local) break;
    run.push(element);
  }
  return run;
}

function fault(element: XmlElement, status: number): Axis2Fault {
  // SOAP 1.1 Fault children are unqualified.
  const child = (name: string) => elements(element).find((e) => e.local === name && e.uri === '');
  const code = child('faultcode');
  const string = child('faultstring');
  if (!code || !string) throw new Error('the Fault lacks an unqualified faultcode or faultstring');
  const faultcode = textOf(code).trim();
  const colon = faultcode.indexOf(':');
  // Axiom resolves faultcode as a QName: an undeclared prefix makes the whole answer unreadable.
  if (colon <= 0) throw new Error(`faultcode "${faultcode}" is not a prefixed QName`);
  if (code.scope[faultcode.slice(0, colon)] === undefined) throw new Error(`faultcode "${faultcode}" uses a prefix that is not declared`);
  return new Axis2Fault(faultcode, textOf(string), status);
}

/**
 * A DataHandler as Axiom builds it: an element whose only content is an xop:Include (first
 * node, nothing before it, not even white space) is the attachment it points at; otherwise
 * the element's text is base64.
 */
function fileOf(element: XmlElement, parts: ReadonlyMap<string, Buffer>): Buffer {
  const [firstNode] = element.children;
  if (typeof firstNode !== 'string' && firstNode?.uri === XOP && firstNode.local === 'Include') {
    if (element.children.length !== 1) throw new Error('an xop:Include must be the only content of its element');
    const href = (firstNode as XmlElement & { href?: string }).href ?? '';
    const id = contentIdOfHref(href);
    const part = id === undefined ? undefined : parts.get(id);
    if (!part) throw new Error(`xop:Include href "${href}" names no part of the answer`);
    return part;
  }
  if (element.children.some((child) => typeof child !== 'string')) {
    throw new Error(`${element.local} holds markup the Java client would read as base64 text (white space before an xop:Include?)`);
  }
  const text = textOf(element);
  if (!/^[A-Za-z0-9+/=\s]*$/.test(text)) throw new Error(`${element.local} is neither base64 nor an xop:Include: ${text.slice(0, 80)}`);
  return Buffer.from(text, 'base64');
}

/** The root XML part and the other parts by Content-ID, through the gateway's own multipart reader. */
async function splitPackage(contentType: string | undefined, body: Buffer): Promise<{ root: string; parts: Map<string, Buffer> }> {
  const mediaType = parseMediaType(contentType);
  if (!isMultipartRelated(mediaType)) {
    if (mediaType.type !== 'text/xml') throw new Error(`the Java client (SOAP 1.1) reads text/xml or MTOM answers, not ${mediaType.type || 'no Content-Type'}`);
    return { root: body.toString('utf8'), parts: new Map() };
  }
  if (mediaType.params.type !== 'application/xop+xml') throw new Error(`an MTOM answer needs type="application/xop+xml", not ${mediaType.params.type}`);
  const boundary = mediaType.params.boundary;
  if (!boundary) throw new Error('a multipart answer without a boundary');
  const collected: { headers: PartHeaders; data: Buffer[] }[] = [];
  const reader = new MultipartReader(boundary, (headers) => {
    const entry = { headers, data: [] as Buffer[] };
    collected.push(entry);
    return { write: (chunk) => void entry.data.push(Buffer.from(chunk)), end: () => undefined };
  });
  await new Promise<void>((resolve, reject) => {
    reader.on('error', reject);
    reader.end(body, () => resolve());
  });
  const start = mediaType.params.start === undefined ? undefined : bareContentId(mediaType.params.start);
  const rootIndex = start === undefined ? 0 : collected.findIndex((part) => bareContentId(part.headers['content-id'] ?? '') === start);
  if (rootIndex < 0) throw new Error(`no part has the start Content-ID ${start}`);
  const parts = new Map<string, Buffer>();
  collected.forEach((part, index) => {
    if (index !== rootIndex) parts.set(bareContentId(part.headers['content-id'] ?? ''), Buffer.concat(part.data));
  });
  return { root: Buffer.concat(collected[rootIndex].data).toString('utf8'), parts };
}

function parseXml(xml: string): XmlElement {
  const parser = new SaxesParser({ xmlns: true });
  const stack: (XmlElement & { href?: string })[] = [];
  let root: XmlElement | undefined;
  let failure: Error | undefined;
  parser.on('error', (error) => (failure ??= error));
  parser.on('opentag', (tag) => {
    const parentScope = stack.length > 0 ? stack[stack.length - 1].scope : {};
    const element: XmlElement & { href?: string } = {
      uri: tag.uri,
      local: tag.local,
      children: [],
      scope: { ...parentScope, ...tag.ns },
      href: typeof tag.attributes.href === 'object' ? tag.attributes.href.value : undefined,
    };
    if (stack.length > 0) stack[stack.length - 1].children.push(element);
    else root = element;
    stack.push(element);
  });
  parser.on('closetag', () => void stack.pop());
  const text = (data: string) => {
    if (stack.length > 0) stack[stack.length - 1].children.push(data);
  };
  parser.on('text', text);
  parser.on('cdata', text);
  parser.write(xml).close();
  if (failure) throw new Error(`the answer is not well-formed XML: ${failure.message}`);
  if (!root) throw new Error('the answer holds no XML element');
  return root;
}

function elements(element: XmlElement): XmlElement[] {
  return element.children.filter((child): child is XmlElement => typeof child !== 'string');
}

function textOf(element: XmlElement): string {
  return element.children.map((child) => (typeof child === 'string' ? child : textOf(child))).join('');
}
