import { Base64Decoder } from './base64-stream';

/** Where the content of a binary part goes: a file, written as the content streams in. */
export interface InlineSink {
  write(chunk: Buffer): void | Promise<void>;
  close(): Promise<number>;
  abort(): void;
}

/** What a binary part turned out to hold once its element closed. */
export type BinaryContent<S> = { readonly kind: 'include'; readonly contentId: string } | { readonly kind: 'inline'; readonly sink: S };

/**
 * One element of a message that carries base64Binary: either inline base64 text, decoded into
 * a sink opened at the first byte, or an xop:Include naming an MTOM part, never both. Errors are
 * thrown with the part's name in them.
 */
export class BinaryPart<S extends InlineSink> {
  readonly #decoder = new Base64Decoder();
  #sink: S | undefined;
  #include: string | undefined;

  constructor(
    readonly part: string,
    private readonly open: () => S,
  ) {}

  /** More base64 text of the element (whitespace included); resolves once it is written. */
  async text(text: string): Promise<void> {
    if (text.includes('&')) throw this.#error('entity references in base64 content are not accepted');
    let bytes: Buffer;
    try {
      bytes = this.#decoder.push(text);
    } catch (error) {
      throw this.#error((error as Error).message);
    }
    if (bytes.length === 0 && this.#sink === undefined) return;
    if (this.#include !== undefined) throw this.#error('holds both an xop:Include and base64 content');
    this.#sink ??= this.open();
    if (bytes.length > 0) await this.#sink.write(bytes);
  }

  /** The element holds an xop:Include with this Content-ID (undefined: its href is no cid: URL). */
  include(contentId: string | undefined): void {
    if (contentId === undefined) throw this.#error('its xop:Include has no cid: href');
    if (this.#include !== undefined || this.#sink !== undefined) throw this.#error('holds more than one content');
    this.#include = contentId;
  }

  /**
   * The element closed. Answers its content at once (so that parts keep their order) and, in
   * `done`, when the last bytes are decoded and the sink is closed.
   */
  close(): { content: BinaryContent<S>; done: Promise<void> } {
    if (this.#include !== undefined) return { content: { kind: 'include', contentId: this.#include }, done: Promise.resolve() };
    const sink = this.#sink ?? this.open(); // no content at all: an empty file
    const done = (async () => {
      try {
        const last = this.#decoder.end();
        if (last.length > 0) await sink.write(last);
        await sink.close();
      } catch (error) {
        throw this.#error((error as Error).message);
      }
    })();
    return { content: { kind: 'inline', sink }, done };
  }

  #error(message: string): Error {
    return new Error(`part "${this.part}": ${message}`);
  }
}
