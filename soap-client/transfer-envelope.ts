import { TARGET_NAMESPACE, getOperation, type OperationName } from '../protocol/operations';
import type { FileSegment, Segment } from '../protocol/codec/message-writer';
import type { PartValue } from './cli';
import { escapeXml } from './envelope';

const SOAP_ENVELOPE_NAMESPACE = 'http://schemas.xmlsoap.org/soap/envelope/';

/** A part's value in a transfer request: text as in any call, or files for binary parts. */
export type TransferValue = PartValue | readonly FileSegment[];

/**
 * The request of a transfer operation as segments for the message writer: the same
 * document/literal wrapper as every other call, with each file where its content goes.
 */
export function transferRequestSegments(operation: OperationName, values: Readonly<Record<string, TransferValue>>): Segment[] {
  const segments: Segment[] = [
    `<soapenv:Envelope xmlns:soapenv="${SOAP_ENVELOPE_NAMESPACE}"><soapenv:Body><ns:${operation} xmlns:ns="${TARGET_NAMESPACE}">`,
  ];
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
