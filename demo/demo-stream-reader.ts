import type { Readable } from 'node:stream';

/**
 * Pulls lines and byte runs off a readable stream, holding at most one chunk (plus one line)
 * in memory: what the streamed closure format needs to read headers and then file contents.
 */
export class ByteReader {
  private readonly chunks: AsyncIterator<Buffer>;
  private rest: Buffer = Buffer.alloc(0);
  private ended = false;

  constructor(stream: Readable) {
    this.chunks = (stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  }

  private async fill(): Promise<boolean> {
    if (this.ended) return false;
    const next = await this.chunks.next();
    if (next.done) {
      this.ended = true;
      return false;
    }
    this.rest = this.rest.length === 0 ? next.value : Buffer.concat([this.rest, next.value]);
    return true;
  }

  /**
   * The next line, newline included; undefined when the stream ends before a newline or the
   * line would be longer than `max` bytes.
   */
  async readLine(max: number): Promise<Buffer | undefined> {
    let searched = 0;
    for (;;) {
      const at = this.rest.indexOf(0x0a, searched);
      if (at >= 0 && at < max) {
        const line = this.rest.subarray(0, at + 1);
        this.rest = this.rest.subarray(at + 1);
        return line;
      }
      if (at >= 0 || this.rest.length >= max) return undefined;
      searched = this.rest.length;
      if (!(await this.fill())) return undefined;
    }
  }

  /** Up to `size` bytes, chunk by chunk; fewer only when the stream ends first. */
  async *readExact(size: number): AsyncGenerator<Buffer> {
    let left = size;
    while (left > 0) {
      if (this.rest.length === 0 && !(await this.fill())) return;
      const take = Math.min(left, this.rest.length);
      const chunk = this.rest.subarray(0, take);
      this.rest = this.rest.subarray(take);
      left -= take;
      yield chunk;
    }
  }

  /** Whether nothing is left to read. */
  async atEnd(): Promise<boolean> {
    while (this.rest.length === 0) if (!(await this.fill())) return true;
    return false;
  }
}
