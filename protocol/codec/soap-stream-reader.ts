import { SaxesParser, type SaxesTagNS } from 'saxes';
import { BinaryPart, type InlineSink } from './binary-part';
import { contentIdOfHref } from './media-type';
import { SOAP11_NS } from './soap-envelope';

export type { InlineSink };

/**
 * Reads a SOAP envelope that may carry file contents, as it streams in: every request of the
 * gateway and the client's download responses alike.
 *
 * The markup goes through saxes, fed one tag at a time (each piece ends at a `>`). When a tag
 * opens an element that carries base64Binary, what follows up to the next `<` is file content:
 * it bypasses the XML parser, is decoded piece by piece and written to a sink, so inline content
 * of any size costs neither memory (saxes would hold a whole text node) nor a character-by-
 * character scan. An `xop:Include` in such an element instead names an MTOM part.
 *
 * It refuses, for good and at once, what no SOAP call of this service holds: DTDs (so no entity
 * is ever expanded or fetched), processing instructions, SOAP 1.2 where a SOAP 1.1 message is
 * expected, elements nested deeper than MAX_DEPTH, and markup beyond the caller's limit.
 */
const SOAP12_NS = 'http://www.w3.org/2003/05/soap-envelope';
const XOP_NS = 'http://www.w3.org/2004/08/xop/include';
const XSI_NS = 'http://www.w3.org/2001/XMLSchema-instance';
/**
 * Disnix envelopes nest 5 deep and headers a few more. saxes resolves each unprefixed name by
 * walking the open tags, so deeply nested input costs quadratic time (32,000 open tags, 96 KB,
 * took 30 s): reading stops at this depth.
 */
export const MAX_DEPTH = 32;

/**
 * A child of the Body's element: text (`structured` when it held elements, which no part of a
 * Disnix call does: the caller's checks name the part), or file content inline or by reference.
 */
export type SoapItem<S> =
  | { readonly kind: 'text'; readonly name: string; readonly text: string; readonly nil: boolean; readonly structured?: boolean }
  | { readonly kind: 'include'; readonly name: string; readonly contentId: string }
  | { readonly kind: 'inline'; readonly name: string; readonly sink: S };

export interface SoapStreamReaderOptions<S extends InlineSink> {
  /** What the message is, for the reader's own refusals: "the request has a DTD". */
  readonly noun: string;
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

/** Why a message was refused; `tooLarge` when its markup went beyond `maxMarkupChars`. */
export class SoapReadError extends Error {
  override readonly name = 'SoapReadError';
  constructor(
    message: string,
    readonly reason: 'refused' | 'tooLarge' = 'refused',
  ) {
    super(message);
  }
}

type Frame = 'envelope' | 'header' | 'body' | 'operation' | 'text' | 'binary' | 'include' | 'fault' | 'faultField' | 'ignored';

export class SoapStreamReader<S extends InlineSink> {
  readonly items: SoapItem<S>[] = [];
  bodyElement: string | undefined;
  fault: { faultcode: string; faultstring: string } | undefined;
  readonly #options: SoapStreamReaderOptions<S>;
  readonly #parser = new SaxesParser({ xmlns: true, position: false });
  readonly #stack: Frame[] = [];
  readonly #pending: Promise<unknown>[] = [];
  readonly #opened = new Set<S>();
  #binary: BinaryPart<S> | undefined;
  #text: { part: string; value: string; nil: boolean; structured?: boolean; field?: 'faultcode' | 'faultstring' } | undefined;
  #markupChars = 0;
  #problem: string | undefined;
  #tooLarge = false;
  /** The last piece fed to the parser ended inside a tag (no `>` yet): what follows is markup. */
  #inTag = false;

  constructor(options: SoapStreamReaderOptions<S>) {
    this.#options = options;
    this.#parser.on('opentag', (tag) => this.#open(tag));
    this.#parser.on('closetag', () => this.#close());
    this.#parser.on('text', (text) => this.#onText(text));
    this.#parser.on('cdata', (text) => this.#onText(text));
    const { noun } = options;
    this.#parser.on('doctype', () => this.#refuse(`${noun} has a DTD; DTDs and entity declarations are not accepted`));
    this.#parser.on('processinginstruction', (pi) => {
      if (pi.target.toLowerCase() !== 'xml') this.#refuse(`${noun} holds a processing instruction, which is not accepted`);
    });
  }

  /**
   * Feeds the next piece of the message. Markup is read at once; where file content must be
   * written first, answers a promise of that (a message without files never waits).
   */
  write(text: string): void | Promise<void> {
    return this.#writeFrom(text, 0);
  }

  #writeFrom(text: string, from: number): void | Promise<void> {
    let pos = from;
    while (pos < text.length) {
      if (this.#inBinaryContent()) {
        const lt = text.indexOf('<', pos);
        const end = lt < 0 ? text.length : lt;
        if (lt < 0) return end > pos ? this.#binaryText(text.slice(pos, end)) : undefined;
        if (end > pos) return this.#binaryText(text.slice(pos, end)).then(() => this.#writeFrom(text, end));
      }
      const gt = text.indexOf('>', pos);
      const end = gt < 0 ? text.length : gt + 1;
      this.#markupChars += end - pos;
      if (this.#markupChars > this.#options.maxMarkupChars && this.#problem === undefined) {
        this.#tooLarge = true;
        this.#refuse(`${this.#options.noun}, file contents excepted, is larger than the ${this.#options.maxMarkupChars} bytes accepted`);
      }
      this.#feed(text.slice(pos, end));
      this.#inTag = gt < 0;
      pos = end;
      if (this.#pending.length > 0) return this.#settle().then(() => this.#writeFrom(text, end));
    }
  }

  /** The message is complete: checks that it was whole and waits until every file is closed. */
  async end(): Promise<void> {
    if (this.#problem === undefined) {
      try {
        this.#parser.close();
      } catch (error) {
        this.#refuse(`${this.#options.noun} is not well-formed XML: ${firstLine(error)}`);
      }
    }
    await this.#settle();
    if (this.#problem === undefined && this.bodyElement === undefined && this.fault === undefined) {
      this.#refuse('the SOAP Body holds no element');
    }
    this.#throwIfRefused();
  }

  /** Closes every file opened for inline content, as the message failed. */
  abort(): void {
    for (const sink of this.#opened) sink.abort();
  }

  #feed(piece: string): void {
    this.#throwIfRefused();
    try {
      this.#parser.write(piece);
    } catch (error) {
      if (!(error instanceof StopReading)) this.#refuse(`${this.#options.noun} is not well-formed XML: ${firstLine(error)}`);
    }
    this.#throwIfRefused();
  }

  async #settle(): Promise<void> {
    while (this.#pending.length > 0) await this.#pending.shift();
    this.#throwIfRefused();
  }

  #throwIfRefused(): void {
    if (this.#problem !== undefined) throw new SoapReadError(this.#problem, this.#tooLarge ? 'tooLarge' : 'refused');
  }

  #inBinaryContent(): boolean {
    return !this.#inTag && this.#stack[this.#stack.length - 1] === 'binary' && this.#problem === undefined;
  }

  async #binaryText(text: string): Promise<void> {
    try {
      await this.#binary!.text(text);
    } catch (error) {
      this.#refuse((error as Error).message);
    }
  }

  #openSink(binary: BinaryPart<S>): S {
    const sink = this.#options.openInline(binary.part);
    this.#opened.add(sink);
    return sink;
  }

  #refuse(message: string): void {
    this.#problem ??= message;
  }

  #open(tag: SaxesTagNS): void {
    const parent = this.#stack[this.#stack.length - 1];
    const depth = this.#stack.length + 1;
    if (depth > MAX_DEPTH) {
      this.#refuse(`${this.#options.noun} nests elements more than ${MAX_DEPTH} deep, which no SOAP call of this service does`);
      throw new StopReading();
    }
    let frame: Frame = 'ignored';
    if (depth === 1) {
      if (tag.local !== 'Envelope' || (tag.uri !== SOAP11_NS && tag.uri !== SOAP12_NS))
        this.#refuse(`${this.#options.noun} is not a SOAP envelope (its root element is <${tag.name}>)`);
      else if (tag.uri === SOAP12_NS && !this.#options.acceptFault) this.#refuse('SOAP 1.2 is not served here; send a SOAP 1.1 envelope (see the WSDL)');
      frame = 'envelope';
    } else if (parent === 'envelope') {
      frame = tag.local === 'Body' ? 'body' : 'header';
    } else if (parent === 'body') {
      frame = this.#openBodyElement(tag);
    } else if (parent === 'operation') {
      frame = this.#openPart(tag);
    } else if (parent === 'binary' && tag.uri === XOP_NS && tag.local === 'Include') {
      frame = 'include';
      try {
        this.#binary!.include(contentIdOfHref(String(tag.attributes.href?.value ?? '')));
      } catch (error) {
        this.#refuse((error as Error).message);
      }
    } else if (parent === 'fault') {
      frame = this.#openFaultField(tag.local);
    } else if (parent === 'faultField' && (tag.local === 'Text' || tag.local === 'Value') && this.#text?.value.trim() === '') {
      frame = 'faultField';
    } else if (parent === 'text') {
      this.#text!.structured = true;
    } else if (parent === 'binary') {
      this.#refuse(`unexpected element <${tag.name}> in a part of ${this.bodyElement}`);
    }
    this.#stack.push(frame);
  }

  #openBodyElement(tag: SaxesTagNS): Frame {
    if (this.bodyElement !== undefined || this.fault !== undefined) {
      this.#refuse('the SOAP Body holds more than one element');
      return 'ignored';
    }
    if (tag.local === 'Fault' && (tag.uri === SOAP11_NS || tag.uri === SOAP12_NS) && this.#options.acceptFault) {
      this.fault = { faultcode: '', faultstring: '' };
      return 'fault';
    }
    const why = this.#options.acceptBody(tag.local, tag.uri);
    if (why !== undefined) this.#refuse(why);
    this.bodyElement = tag.local;
    return 'operation';
  }

  #openPart(tag: SaxesTagNS): Frame {
    const nil = isNil(tag);
    const part = this.#options.partName(tag.local, nil);
    if (this.#options.isBinary(part) && !nil) {
      const binary: BinaryPart<S> = new BinaryPart(part, () => this.#openSink(binary));
      this.#binary = binary;
      return 'binary';
    }
    this.#text = { part, value: '', nil };
    return 'text';
  }

  #openFaultField(local: string): Frame {
    const field = local === 'faultstring' || local === 'Reason' ? 'faultstring' : local === 'faultcode' || local === 'Code' ? 'faultcode' : undefined;
    if (field === undefined) return 'ignored';
    this.#text = { part: local, value: '', nil: false, field };
    return 'faultField';
  }

  #onText(text: string): void {
    const frame = this.#stack[this.#stack.length - 1];
    if (frame === 'text' || frame === 'faultField') this.#text!.value += text;
    else if (frame === 'binary') this.#pending.push(this.#binaryText(text));
    else if (frame === 'operation' && text.trim() !== '') this.#refuse(`${this.bodyElement} holds text outside its parts`);
  }

  #close(): void {
    const frame = this.#stack.pop();
    if (frame === 'text') {
      const { part, value, nil, structured } = this.#text!;
      this.items.push(structured ? { kind: 'text', name: part, text: value, nil, structured } : { kind: 'text', name: part, text: value, nil });
      this.#text = undefined;
    } else if (frame === 'faultField' && this.#stack[this.#stack.length - 1] === 'fault') {
      const { field, value } = this.#text!;
      if (this.fault![field!] === '') this.fault![field!] = field === 'faultcode' ? value.trim() : value;
      this.#text = undefined;
    } else if (frame === 'binary') {
      // The item goes in now, so that items keep the order of the message; the file closes later.
      const { part } = this.#binary!;
      const { content, done } = this.#binary!.close();
      this.items.push(
        content.kind === 'include' ? { kind: 'include', name: part, contentId: content.contentId } : { kind: 'inline', name: part, sink: content.sink },
      );
      if (content.kind === 'inline')
        this.#pending.push(
          done.then(
            () => this.#opened.delete(content.sink),
            (error: Error) => this.#refuse(error.message),
          ),
        );
      this.#binary = undefined;
    }
  }
}

/** Thrown from a handler to stop saxes once the message is refused for good. */
class StopReading extends Error {}

function firstLine(error: unknown): string {
  return String((error as Error)?.message ?? error).split('\n')[0];
}

/** Whether an element is marked xsi:nil="true" (or "1"): a null where a value could stand. */
export function isNil(tag: SaxesTagNS): boolean {
  return /^(true|1)$/.test(String(Object.values(tag.attributes).find((a) => a.uri === XSI_NS && a.local === 'nil')?.value ?? ''));
}
