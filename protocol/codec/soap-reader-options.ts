import type { InlineSink } from './binary-part';

/** What the streaming SOAP reader is told, and what it answers. */
export const SOAP11_NS = 'http://schemas.xmlsoap.org/soap/envelope/';

export type SoapItem<S> =
  | { readonly kind: 'text'; readonly name: string; readonly text: string; readonly nil: boolean }
  | { readonly kind: 'include'; readonly name: string; readonly contentId: string }
  | { readonly kind: 'inline'; readonly name: string; readonly sink: S };

export interface SoapStreamReaderOptions<S extends InlineSink> {
  /** Checks the element in the Body; answers why it is refused, or undefined. */
  acceptBody(local: string, uri: string): string | undefined;
  /**
   * The part a child of that element stands for (e.g. `arg0` of the Java client -> `closure`);
   * asked once per child, in document order, told whether the child is xsi:nil.
   */
  partName(local: string, nil: boolean): string;
  isBinary(part: string): boolean;
  /** A new sink for inline content of a binary part. */
  openInline(part: string): S;
  /** How much markup and text, file contents excepted, a message may have. */
  readonly maxMarkupChars: number;
  /** Whether a SOAP Fault in the Body is an answer (responses) rather than an error. */
  readonly acceptFault: boolean;
}

export class SoapReadError extends Error {
  override readonly name = 'SoapReadError';
}

