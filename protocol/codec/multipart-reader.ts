import { Writable } from 'node:stream';

/**
 * A streaming reader of a multipart body (RFC 2046), as MTOM sends it: each part's bytes go to
 * its consumer as they arrive, with backpressure, so a part of any size passes through without
 * being held. Written here rather than taken from a package because the boundary search is
 * the hot loop of every transfer: Buffer#indexOf is native, and a body chunk is handed on as
 * a view without copying, except in the rare chunk that ends in the middle of a delimiter.
 *
 * The body ends well only after the closing delimiter: a body cut short (a client gone mid-
 * upload, a proxy that truncated it) fails in `final`, so nothing half-received is used.
 */
export interface PartHeaders {
  /** Header values by lower-cased name. */
  readonly [name: string]: string | undefined;
}

export interface PartConsumer {
  write(chunk: Buffer): void | Promise<void>;
  end(): void | Promise<void>;
  /** Called when the body fails before this part ended. */
  abort?(): void;
}

export class MultipartError extends Error {
  override readonly name = 'MultipartError';
}

const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');
const MAX_HEADER_BYTES = 16 * 1024;
const CR = 13;
const LF = 10;

type State = 'preamble' | 'afterDelimiter' | 'headers' | 'body' | 'epilogue';

export class MultipartReader extends Writable {
  readonly #delimiter: Buffer;
  readonly #onPart: (headers: PartHeaders, index: number) => PartConsumer | Promise<PartConsumer>;
  // The body may start with the delimiter without the CRLF before it: pretend one came.
  #carry: Buffer = CRLF;
  #state: State = 'preamble';
  #part: PartConsumer | undefined;
  #parts = 0;

  constructor(boundary: string, onPart: (headers: PartHeaders, index: number) => PartConsumer | Promise<PartConsumer>) {
    super({ highWaterMark: 1024 * 1024 });
    if (!/^[0-9A-Za-z'()+_,\-./:=? ]{1,70}$/.test(boundary) || boundary.endsWith(' ')) {
      throw new MultipartError(`the multipart boundary "${boundary.slice(0, 80)}" is not a valid one (RFC 2046)`);
    }
    this.#delimiter = Buffer.from(`\r\n--${boundary}`, 'latin1');
    this.#onPart = onPart;
  }

  /** How many parts have begun so far. */
  get parts(): number {
    return this.#parts;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#feed(chunk).then(() => callback(), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (this.#state === 'epilogue') callback();
    else callback(new MultipartError('the multipart body ends before its closing boundary: it was cut short'));
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#part?.abort?.();
    this.#part = undefined;
    callback(error);
  }

  async #feed(chunk: Buffer): Promise<void> {
    const data = this.#carry.length > 0 ? Buffer.concat([this.#carry, chunk]) : chunk;
    this.#carry = Buffer.alloc(0);
    let pos = 0;
    while (pos < data.length) {
      switch (this.#state) {
        case 'preamble': {
          const at = data.indexOf(this.#delimiter, pos);
          if (at < 0) {
            this.#carry = Buffer.from(data.subarray(Math.max(pos, data.length - this.#delimiter.length + 1)));
            return;
          }
          pos = at + this.#delimiter.length;
          this.#state = 'afterDelimiter';
          break;
        }
        case 'afterDelimiter': {
          // Either `--` (the closing delimiter) or optional transport padding, then CRLF.
          if (data.length - pos < 2) return this.#keep(data, pos);
          if (data[pos] === 0x2d && data[pos + 1] === 0x2d) {
            this.#state = 'epilogue';
            return;
          }
          const eol = data.indexOf(CRLF, pos);
          if (eol < 0) {
            if (data.length - pos > 256) throw new MultipartError('a multipart delimiter is followed by something other than a line end');
            return this.#keep(data, pos);
          }
          if (!/^[ \t]*$/.test(data.toString('latin1', pos, eol))) {
            throw new MultipartError('a multipart delimiter is followed by something other than a line end');
          }
          pos = eol + 2;
          this.#state = 'headers';
          break;
        }
        case 'headers': {
          if (data.length - pos < 2) return this.#keep(data, pos);
          let headers: PartHeaders = {};
          if (data[pos] === CR && data[pos + 1] === LF) {
            pos += 2; // a part without headers
          } else {
            const end = data.indexOf(HEADER_END, pos);
            if (end < 0) {
              if (data.length - pos > MAX_HEADER_BYTES) throw new MultipartError(`the headers of a multipart part exceed ${MAX_HEADER_BYTES} bytes`);
              return this.#keep(data, pos);
            }
            headers = parseHeaders(data.toString('latin1', pos, end));
            pos = end + 4;
          }
          this.#part = await this.#onPart(headers, this.#parts++);
          this.#state = 'body';
          break;
        }
        case 'body': {
          const at = data.indexOf(this.#delimiter, pos);
          if (at >= 0) {
            if (at > pos) await this.#part!.write(data.subarray(pos, at));
            const part = this.#part!;
            this.#part = undefined;
            await part.end();
            pos = at + this.#delimiter.length;
            this.#state = 'afterDelimiter';
            break;
          }
          const keepFrom = partialDelimiterStart(data, pos, this.#delimiter);
          if (keepFrom > pos) await this.#part!.write(data.subarray(pos, keepFrom));
          return this.#keep(data, keepFrom);
        }
        case 'epilogue':
          return;
      }
    }
  }

  /** Keeps the unread end for the next chunk: a copy, as consumers may still hold views of `data`. */
  #keep(data: Buffer, from: number): void {
    this.#carry = Buffer.from(data.subarray(from));
  }
}

/**
 * Where a delimiter may begin in the last bytes of `data`: a boundary holds no CR, so a
 * partial delimiter at the end starts at the last CR, if what follows it begins the delimiter.
 */
function partialDelimiterStart(data: Buffer, pos: number, delimiter: Buffer): number {
  const windowStart = Math.max(pos, data.length - delimiter.length + 1);
  const cr = data.lastIndexOf(CR, data.length - 1);
  if (cr < windowStart) return data.length;
  const tail = data.subarray(cr);
  return delimiter.subarray(0, tail.length).equals(tail) ? cr : data.length;
}

function parseHeaders(text: string): PartHeaders {
  const headers: Record<string, string> = {};
  // Folded header lines (a line starting with white space) continue the previous one.
  for (const line of text.replace(/\r\n[ \t]+/g, ' ').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new MultipartError(`a multipart part has a malformed header line "${line.slice(0, 60)}"`);
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return headers;
}
