import { SaxesParser, type SaxesTagNS } from 'saxes';
import { BinaryPart, type InlineSink } from './binary-part';
import { contentIdOfHref } from './media-type';
import { SOAP11_NS, type SoapItem, SoapReadError, type SoapStreamReaderOptions } from './soap-reader-options';

export { SOAP11_NS, SoapReadError, type InlineSink, type SoapItem, type SoapStreamReaderOptions };

/**
 * Reads a SOAP envelope that may carry file contents, as it streams in: requests of the
 * gateway's transfer operations and the client's download responses alike.
 *
 * The markup goes through saxes, fed one tag at a time (each piece ends at a `>`). When a tag
 * opens an element that carries base64Binary, what follows up to the next `<` is file content:
 * it bypasses the XML parser, is decoded piece by piece and written to a sink, so inline content
 * of any size costs neither memory (saxes would hold a whole text node) nor a character-by-
 * character scan. An `xop:Include` in such an element instead names an MTOM part.
 */
const SOAP12_NS = 'http://www.w3.org/2003/05/soap-envelope';
const XOP_NS = 'http://www.w3.org/2004/08/xop/include';
const XSI_NS = 'http://www.w3.org/2001/XMLSchema-instance';

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
  #text: { part: string; value: string; nil: boolean; field?: 'faultcode' | 'faultstring' } | undefined;
  #markupChars = 0;
  #problem: string | undefined;
  /** The last piece fed to the parser ended inside a tag (no `>` yet): what follows is markup. */
  #inTag = false;

  constructor(options: SoapStreamReaderOptions<S>) {
    this.#options = options;
    this.#parser.on('opentag', (tag) => this.#open(tag));
    this.#parser.on('closetag', () => this.#close());
    this.#parser.on('text', (text) => this.#onText(text));
    this.#parser.on('cdata', (text) => this.#onText(text));
    this.#parser.on('doctype', () => this.#refuse('the message has a DTD; DTDs and entity declarations are not accepted'));
  }

  /** Feeds the next piece of the message; resolves once its file content is written. */
  async write(text: string): Promise<void> {
    let pos = 0;
    while (pos < text.length) {
      if (this.#inBinaryContent()) {
        const lt = text.indexOf('<', pos);
        const end = lt < 0 ? text.length : lt;
        if (end > pos) await this.#binaryText(text.slice(pos, end));
        pos = end;
        if (lt < 0) break;
      }
      const gt = text.indexOf('>', pos);
      const end = gt < 0 ? text.length : gt + 1;
      this.#markupChars += end - pos;
      if (this.#markupChars > this.#options.maxMarkupChars) {
        this.#refuse(`the SOAP message, file contents excepted, is larger than the ${this.#options.maxMarkupChars} bytes accepted`);
      }
      this.#feed(text.slice(pos, end));
      this.#inTag = gt < 0;
      pos = end;
      await this.#settle();
    }
  }

  /** The message is complete: checks that it was whole and waits until every file is closed. */
  async end(): Promise<void> {
    if (this.#problem === undefined) {
      try {
        this.#parser.close();
      } catch (error) {
        this.#refuse(`the SOAP message is not well-formed XML: ${firstLine(error)}`);
      }
    }
    await this.#settle();
    if (this.#problem === undefined && this.bodyElement === undefined && this.fault === undefined) {
      this.#refuse('the SOAP Body holds no element');
    }
    if (this.#problem !== undefined) throw new SoapReadError(this.#problem);
  }

  /** Closes every file opened for inline content, as the message failed. */
  abort(): void {
    for (const sink of this.#opened) sink.abort();
  }

  #feed(piece: string): void {
    if (this.#problem !== undefined) throw new SoapReadError(this.#problem);
    try {
      this.#parser.write(piece);
    } catch (error) {
      this.#refuse(`the SOAP message is not well-formed XML: ${firstLine(error)}`);
    }
    if (this.#problem !== undefined) throw new SoapReadError(this.#problem);
  }

  async #settle(): Promise<void> {
    while (this.#pending.length > 0) await this.#pending.shift();
    if (this.#problem !== undefined) throw new SoapReadError(this.#problem);
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
    let frame: Frame = 'ignored';
    if (depth === 1) {
      if (tag.local !== 'Envelope' || (tag.uri !== SOAP11_NS && tag.uri !== SOAP12_NS)) this.#refuse(`the message is not a SOAP envelope (its root element is <${tag.name}>)`);
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
    } else if (parent === 'binary' || parent === 'text') {
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
      const { part, value, nil } = this.#text!;
      this.items.push({ kind: 'text', name: part, text: value, nil });
      this.#text = undefined;
    } else if (frame === 'faultField' && this.#stack[this.#stack.length - 1] === 'fault') {
      const { field, value } = this.#text!;
      if (this.fault![field!] === '') this.fault![field!] = field === 'faultcode' ? value.trim() : value;
      this.#text = undefined;
    } else if (frame === 'binary') {
      // The item goes in now, so that items keep the order of the message; the file closes later.
      const { part } = this.#binary!;
      const { content, done } = this.#binary!.close();
      this.items.push(content.kind === 'include' ? { kind: 'include', name: part, contentId: content.contentId } : { kind: 'inline', name: part, sink: content.sink });
      if (content.kind === 'inline') this.#pending.push(done.then(() => this.#opened.delete(content.sink), (error: Error) => this.#refuse(error.message)));
      this.#binary = undefined;
    }
  }
}

function firstLine(error: unknown): string {
  return String((error as Error)?.message ?? error).split('\n')[0];
}

/** Whether an element is marked xsi:nil="true" (or "1"): a null where a value could stand. */
export function isNil(tag: SaxesTagNS): boolean {
  return /^(true|1)$/.test(String(Object.values(tag.attributes).find((a) => a.uri === XSI_NS && a.local === 'nil')?.value ?? ''));
}
