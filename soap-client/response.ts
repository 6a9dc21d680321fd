import { SaxesParser, type SaxesTagNS } from 'saxes';
import type { OperationName } from '../protocol/operations';

/** What a SOAP response says: the `return` elements of `<OPResponse>`, or a Fault. */
export type SoapAnswer =
  | { readonly kind: 'result'; readonly returns: readonly string[] }
  | { readonly kind: 'fault'; readonly faultcode: string; readonly faultstring: string };

/** The response is not a SOAP answer to the operation; `message` says why. */
export class ResponseFormatError extends Error {
  override readonly name = 'ResponseFormatError';
}

const SOAP_11 = 'http://schemas.xmlsoap.org/soap/envelope/';
// The soap package can answer a SOAP 1.2-shaped Fault; read its Reason as the faultstring.
const SOAP_12 = 'http://www.w3.org/2003/05/soap-envelope';

type Capture = 'return' | 'faultstring' | 'faultcode';

/**
 * Reads a response as it streams in: feed it chunks with `write`, then `finish` gives the
 * answer or throws a ResponseFormatError. Only the few elements that matter are kept.
 */
export class ResponseReader {
  private readonly parser = new SaxesParser({ xmlns: true, position: false });
  private readonly expected: string;
  private error: Error | undefined;
  private depth = 0;
  private envelopeNamespace: string | undefined;
  private inBody = false;
  private bodyChild: 'response' | 'fault' | undefined;
  private capture: { kind: Capture; depth: number; text: string } | undefined;
  private readonly returns: string[] = [];
  private faultstring = '';
  private faultcode = '';
  private parent = '';

  constructor(operation: OperationName) {
    this.expected = `${operation}Response`;
    this.parser.on('error', (error) => this.fail(error.message));
    this.parser.on('opentag', (tag) => this.open(tag));
    this.parser.on('closetag', () => this.close());
    this.parser.on('text', (text) => this.append(text));
    this.parser.on('cdata', (text) => this.append(text));
  }

  write(chunk: string): void {
    if (this.error === undefined) this.parser.write(chunk);
  }

  finish(): SoapAnswer {
    if (this.error === undefined) this.parser.close();
    if (this.error !== undefined) throw this.error;
    if (this.envelopeNamespace === undefined) throw new ResponseFormatError('the response is empty');
    if (this.bodyChild === 'fault') {
      return { kind: 'fault', faultcode: this.faultcode.trim(), faultstring: this.faultstring };
    }
    if (this.bodyChild === undefined) throw new ResponseFormatError(`the SOAP Body holds no ${this.expected}`);
    return { kind: 'result', returns: this.returns };
  }

  private fail(message: string): void {
    this.error ??= new ResponseFormatError(message);
  }

  private open(tag: SaxesTagNS): void {
    this.depth += 1;
    if (this.error !== undefined) return;
    const inEnvelope = tag.uri === this.envelopeNamespace;
    if (this.depth === 1) {
      if (tag.local !== 'Envelope' || (tag.uri !== SOAP_11 && tag.uri !== SOAP_12)) {
        this.fail(`the document is <${tag.name}>, not a SOAP Envelope`);
      }
      this.envelopeNamespace = tag.uri;
    } else if (this.depth === 2) {
      this.inBody = inEnvelope && tag.local === 'Body';
    } else if (this.depth === 3 && this.inBody && this.bodyChild === undefined) {
      if (inEnvelope && tag.local === 'Fault') this.bodyChild = 'fault';
      else if (tag.local === this.expected) this.bodyChild = 'response';
      else this.fail(`the SOAP Body holds <${tag.name}>, not ${this.expected}`);
    } else if (this.depth === 4 && this.inBody) {
      this.parent = tag.local;
      if (this.bodyChild === 'response' && tag.local === 'return') this.startCapture('return');
      else if (this.bodyChild === 'fault' && (tag.local === 'faultstring' || tag.local === 'faultcode')) {
        this.startCapture(tag.local);
      }
    } else if (this.depth === 5 && this.inBody && this.bodyChild === 'fault' && this.capture === undefined) {
      if (this.parent === 'Reason' && tag.local === 'Text') this.startCapture('faultstring');
      else if (this.parent === 'Code' && tag.local === 'Value') this.startCapture('faultcode');
    }
  }

  private startCapture(kind: Capture): void {
    this.capture = { kind, depth: this.depth, text: '' };
  }

  private append(text: string): void {
    if (this.capture !== undefined) this.capture.text += text;
  }

  private close(): void {
    const capture = this.capture;
    if (capture !== undefined && capture.depth === this.depth) {
      this.capture = undefined;
      if (capture.kind === 'return') this.returns.push(capture.text);
      else if (capture.kind === 'faultstring') this.faultstring ||= capture.text;
      else this.faultcode ||= capture.text;
    }
    if (this.depth === 2) this.inBody = false;
    this.depth -= 1;
  }
}

/** Reads a whole response at once. */
export function readResponse(operation: OperationName, text: string): SoapAnswer {
  const reader = new ResponseReader(operation);
  reader.write(text);
  return reader.finish();
}
