import { type OperationName, getOperation } from '../protocol/operations';
import { requestSegments } from '../protocol/codec/soap-envelope';
import { XmlTextError, escapeXml as escapeXmlText } from '../protocol/xml-text';
import type { PartValue } from './cli';
import { ClientError } from './errors';

/**
 * The document/literal request of an operation whose parts are all text (protocol's request
 * writer); parts that carry file contents need a transfer and are refused here.
 */
export function buildEnvelope(operation: OperationName, values: Readonly<Record<string, PartValue>>): string {
  for (const part of getOperation(operation).params) {
    if (part.kind === 'file' || part.kind === 'files') throw new Error(`part ${part.name} of ${operation} holds file contents, which need a transfer`);
  }
  return clientText(() => requestSegments(operation, values).join(''));
}

/** Escapes text for element content; a value XML cannot carry is the user's to fix, not a crash. */
export function escapeXml(text: string): string {
  return clientText(() => escapeXmlText(text));
}

/** Runs a writer of the request, turning values XML cannot carry into a message for the user. */
export function clientText<T>(write: () => T): T {
  try {
    return write();
  } catch (error) {
    if (error instanceof XmlTextError) throw new ClientError(error.message);
    throw error;
  }
}
