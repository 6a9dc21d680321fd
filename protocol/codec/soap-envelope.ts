import { type OperationName, TARGET_NAMESPACE, getOperation } from '../operations';
import { escapeXml, escapeXmlLossy } from '../xml-text';
import type { FileSegment, Segment } from './message-writer';

/**
 * The SOAP 1.1 messages of this service as text, with files where their content goes (the
 * message writer streams them): the client's requests, the gateway's answers and Faults.
 */

/**
 * Defined here, not by the reader: the client writes its requests with this module, and loading
 * the reader would load saxes and the file-content decoders before the request goes out.
 */
export const SOAP11_NS = 'http://schemas.xmlsoap.org/soap/envelope/';

/** A part's value in a request: text, or files for the binary parts. */
export type RequestValue = string | number | boolean | readonly (string | number | boolean)[] | FileSegment | readonly FileSegment[];

/**
 * The document/literal request of an operation: its wrapper element holds one namespace-
 * qualified element per part, in table order; a list is repeated elements (none for an empty
 * list), a file part holds its content.
 */
export function requestSegments(operation: OperationName, values: Readonly<Record<string, RequestValue>>): Segment[] {
  const segments: Segment[] = [`<soapenv:Envelope xmlns:soapenv="${SOAP11_NS}"><soapenv:Body><ns:${operation} xmlns:ns="${TARGET_NAMESPACE}">`];
  for (const part of getOperation(operation).params) {
    const value = values[part.name];
    if (value === undefined) throw new Error(`no value for part ${part.name} of ${operation}`);
    const binary = part.kind === 'file' || part.kind === 'files';
    for (const item of Array.isArray(value) ? value : [value]) {
      if (binary !== (typeof item === 'object')) throw new Error(`part ${part.name} of ${operation} got the wrong kind of value`);
      segments.push(`<ns:${part.name}>`, typeof item === 'object' ? (item as FileSegment) : escapeXml(String(item)), `</ns:${part.name}>`);
    }
  }
  segments.push(`</ns:${operation}></soapenv:Body></soapenv:Envelope>`);
  return segments;
}

/** An answer: `<opResponse>` around the operation's `return` elements (and their files). */
export function responseSegments(operation: string, content: readonly Segment[]): Segment[] {
  return [
    `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="${SOAP11_NS}" xmlns:tns="${TARGET_NAMESPACE}"><soap:Body><tns:${operation}Response>`,
    ...content,
    `</tns:${operation}Response></soap:Body></soap:Envelope>`,
  ];
}

/** One `return` element: the answer's parts are all named so (the Java client reads them by position). */
export function returnElement(text: string): string {
  return `<tns:return>${escapeXmlLossy(text)}</tns:return>`;
}

/** A file's content as an answer's `return` element. */
export function returnFile(file: FileSegment): Segment[] {
  return ['<tns:return>', file, '</tns:return>'];
}

/** A SOAP 1.1 Fault; `faultcode` is a QName in the envelope's `soap:` prefix. */
export function faultEnvelope(faultcode: string, faultstring: string): string {
  return (
    `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="${SOAP11_NS}"><soap:Body><soap:Fault>` +
    `<faultcode>${escapeXmlLossy(faultcode)}</faultcode><faultstring>${escapeXmlLossy(faultstring)}</faultstring>` +
    '</soap:Fault></soap:Body></soap:Envelope>'
  );
}
