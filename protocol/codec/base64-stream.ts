/**
 * Base64 in pieces. Inline xs:base64Binary content arrives (and leaves) in arbitrary slices of
 * one huge text node; decoding or encoding slice by slice keeps memory flat whatever the size.
 */

const BASE64_CHARS = /^[A-Za-z0-9+/]*$/;
const WHITESPACE = /[\s]+/g;

export class Base64Error extends Error {
  override readonly name = 'Base64Error';
}

/** Decodes base64 text given in slices of any length; whitespace (line breaks) is skipped. */
export class Base64Decoder {
  #carry = '';
  #padded = false;
  #padding = 0;
  #decodedBytes = 0;

  get decodedBytes(): number {
    return this.#decodedBytes;
  }

  /** Answers the bytes of every complete 4-character group seen so far (possibly none). */
  push(text: string): Buffer {
    const clean = text.replace(WHITESPACE, '');
    if (clean === '') return Buffer.alloc(0);
    const pad = this.#padded ? 0 : clean.indexOf('=');
    if (pad >= 0) {
      // Padding may be split over pieces ("=" then "="), but nothing else may follow it.
      if (!/^=*$/.test(clean.slice(pad))) throw new Base64Error('base64 content goes on after its padding (=)');
      this.#padded = true;
      this.#padding += clean.length - pad;
      if (this.#padding > 2) throw new Base64Error('base64 content has more than two padding characters');
    }
    if (!BASE64_CHARS.test(pad >= 0 ? clean.slice(0, pad) : clean)) throw new Base64Error('base64 content holds characters outside the base64 alphabet');
    const all = this.#carry + clean;
    const whole = all.length - (all.length % 4);
    this.#carry = all.slice(whole);
    const bytes = Buffer.from(all.slice(0, whole), 'base64');
    this.#decodedBytes += bytes.length;
    return bytes;
  }

  /** Answers the last bytes; unpadded endings (2 or 3 characters) are accepted, 1 cannot be. */
  end(): Buffer {
    const rest = this.#carry;
    this.#carry = '';
    if (rest.replace(/=/g, '').length === 1) throw new Base64Error('base64 content ends in the middle of a byte (truncated?)');
    const bytes = Buffer.from(rest, 'base64');
    this.#decodedBytes += bytes.length;
    return bytes;
  }
}

/** Encodes bytes given in chunks of any length into base64 text without line breaks. */
export class Base64Encoder {
  #carry: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): string {
    const bytes = this.#carry.length > 0 ? Buffer.concat([this.#carry, chunk]) : chunk;
    const whole = bytes.length - (bytes.length % 3);
    this.#carry = Buffer.from(bytes.subarray(whole));
    return bytes.subarray(0, whole).toString('base64');
  }

  end(): string {
    const text = this.#carry.toString('base64');
    this.#carry = Buffer.alloc(0);
    return text;
  }
}

/** Length of the base64 text of `bytes` bytes (with padding, without line breaks). */
export function base64Length(bytes: number): number {
  return Math.ceil(bytes / 3) * 4;
}
