import { availableParallelism } from 'node:os';
import { Transform, type TransformCallback } from 'node:stream';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';

const gzipBlock = promisify(gzip);

/** Large enough that a member's header, trailer and fresh dictionary cost nothing measurable. */
const BLOCK_BYTES = 4 * 1024 * 1024;

/**
 * A gzip stream made of one member per 4 MiB block, several blocks compressed at once on the
 * thread pool, as pigz does. gzip at level 1 makes about 80 MiB/s on one core here, slower than
 * a 1 Gbit/s link takes bytes: with one compressor an upload over such a link would be slower
 * compressed than not. A gzip file may be a sequence of members (RFC 1952, 2.2); the gateway's
 * reader, and Java's GZIPInputStream, read them as one stream. Members leave in order; at most
 * `parallel` blocks are held, so memory stays flat whatever the file's size.
 */
export function parallelGzip(level = 1, parallel = Math.max(1, Math.min(4, availableParallelism()))): Transform {
  let block: Buffer[] = [];
  let blockBytes = 0;
  const inFlight: Promise<Buffer>[] = [];

  const startBlock = () => {
    const data = Buffer.concat(block, blockBytes);
    block = [];
    blockBytes = 0;
    const member = gzipBlock(data, { level });
    // Awaited in order below; marked handled so that a later block's failure cannot go unheard meanwhile.
    member.catch(() => undefined);
    inFlight.push(member);
  };

  return new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      block.push(chunk);
      blockBytes += chunk.length;
      if (blockBytes < BLOCK_BYTES) return callback();
      startBlock();
      if (inFlight.length < parallel) return callback();
      // Enough blocks under way: the oldest goes out before more is taken.
      (inFlight.shift() as Promise<Buffer>).then((member) => callback(null, member), callback);
    },
    flush(callback: TransformCallback) {
      if (blockBytes > 0 || inFlight.length === 0) startBlock();
      Promise.all(inFlight.splice(0)).then((members) => {
        for (const member of members) this.push(member);
        callback();
      }, callback);
    },
  });
}
