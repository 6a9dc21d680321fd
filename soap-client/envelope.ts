import { getOperation, TARGET_NAMESPACE, type OperationName } from '../protocol/operations';
import type { PartValue } from './cli';
import { ClientError } from './errors';

const SOAP_ENVELOPE_NAMESPACE = 'http://schemas.xmlsoap.org/soap/envelope/';

/**
 * Builds the document/literal SOAP 1.1 request of an operation: its wrapper element holds one
 * namespace-qualified element per part, in table order; a list is repeated elements (none
 * for an empty list). Parts that carry file contents are not text and are refused here.
 */
export function buildEnvelope(operation: OperationName, values: Readonly<Record<string, PartValue>>): string {
  let parts = '';
  for (const part of getOperation(operation).params) {
    const value = values[part.name];
    if (value === undefined) throw new Error(`no value for part ${part.name} of ${operation}`);
    if (part.kind === 'file' || part.kind === 'files') {
      throw new Error(`part ${part.name} of ${operation} holds file contents, which need a transfer`);
    }
    for (const item of Array.isArray(value) ? value : [value]) {
      parts += `<ns:${part.name}>${escapeXml(String(item))}</ns:${part.name}>`;
    }
  }
  return (
    `<soapenv:Envelope xmlns:soapenv="${SOAP_ENVELOPE_NAMESPACE}"><soapenv:Body>` +
    `<ns:${operation} xmlns:ns="${TARGET_NAMESPACE}">${parts}</ns:${operation}>` +
    `</soapenv:Body></soapenv:Envelope>`
  );
}

const escapes: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
  // A literal carriage return would be read back as a line feed.
  '\r': '&#13;',
};

/** Escapes text for element content; XML 1.0 cannot carry other control characters at all. */
export function escapeXml(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding the characters XML 1.0 cannot carry is this test's purpose
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/.test(text)) {
    throw new ClientError(`cannot send ${JSON.stringify(text)}: XML cannot carry its control characters`);
  }
  return text.replace(/[&<>"'\r]/g, (character) => escapes[character]);
}
