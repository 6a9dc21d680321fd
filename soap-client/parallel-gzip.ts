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
  // Blocks under way, oldest first; each goes out as soon as it and those before it are done.
  const queue: { member?: Buffer; readonly done: Promise<void> }[] = [];

  const stream: Transform = new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      block.push(chunk);
      blockBytes += chunk.length;
      if (blockBytes < BLOCK_BYTES) return callback();
      startBlock();
      if (queue.length < parallel) return callback();
      // Enough blocks under way: more is taken once the oldest has gone out.
      queue[0].done.then(() => callback(), callback);
    },
    flush(callback: TransformCallback) {
      if (blockBytes > 0 || queue.length === 0) startBlock();
      Promise.all(queue.map((entry) => entry.done)).then(() => callback(), callback);
    },
  });

  function startBlock(): void {
    const data = Buffer.concat(block, blockBytes);
    block = [];
    blockBytes = 0;
    const entry: { member?: Buffer; done: Promise<void> } = {
      done: gzipBlock(data, { level }).then((member) => {
        entry.member = member;
        while (queue[0]?.member !== undefined) stream.push((queue.shift() as { member: Buffer }).member);
      }),
    };
    // Its failure reaches the stream through the callback that waits for it.
    entry.done.catch(() => undefined);
    queue.push(entry);
  }

  return stream;
}
