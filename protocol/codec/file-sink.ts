import { open, type FileHandle } from 'node:fs/promises';

/**
 * A file being written from a stream. Chunks are gathered into batches of about 1 MiB and
 * written with one writev each, one batch at a time: `write` resolves at once while the current
 * batch fills and waits only when a full batch must wait for the one before it. So a fast
 * sender is slowed to the disk's pace with at most two batches in memory, and the syscalls and
 * callbacks per byte stay as few as for a plain HTTP upload into a file.
 */
export interface FileSink {
  readonly path: string;
  readonly bytes: number;
  write(chunk: Buffer): void | Promise<void>;
  /** Flushes and closes the file; resolves with its size. */
  close(): Promise<number>;
  /** Closes the file without waiting; the caller removes it. */
  abort(): void;
}

const BATCH_BYTES = 1024 * 1024;

/** Creates the file (it must not exist yet) with the given mode. */
export function createFileSink(path: string, mode = 0o600): FileSink {
  const opened: Promise<FileHandle> = open(path, 'wx', mode);
  opened.catch(() => undefined); // reported by the write or close that needs it
  let batch: Buffer[] = [];
  let batchBytes = 0;
  let bytes = 0;
  let writing: Promise<void> = Promise.resolve();
  let closed = false;

  const flush = (): Promise<void> => {
    const buffers = batch;
    batch = [];
    batchBytes = 0;
    const previous = writing;
    writing = previous.then(async () => writeAll(await opened, buffers));
    // Marked as handled: a failed write surfaces through the next write or close, never as an
    // unhandled rejection that would end the process.
    writing.catch(() => undefined);
    // The caller waits for the batch before this one only: this one is written meanwhile.
    return previous;
  };

  return {
    path,
    get bytes() {
      return bytes;
    },
    write(chunk) {
      if (closed) throw new Error(`${path} is closed`);
      if (chunk.length === 0) return undefined;
      batch.push(chunk);
      batchBytes += chunk.length;
      bytes += chunk.length;
      return batchBytes >= BATCH_BYTES ? flush() : undefined;
    },
    async close() {
      closed = true;
      if (batchBytes > 0) void flush();
      const handle = await opened;
      try {
        await writing;
      } finally {
        await handle.close();
      }
      return bytes;
    },
    abort() {
      closed = true;
      batch = [];
      void opened.then((handle) => writing.catch(() => undefined).then(() => handle.close())).catch(() => undefined);
    },
  };
}

async function writeAll(handle: FileHandle, buffers: Buffer[]): Promise<void> {
  let rest = buffers;
  while (rest.length > 0) {
    const { bytesWritten } = await handle.writev(rest);
    rest = skip(rest, bytesWritten);
  }
}

/** The buffers after the first `count` bytes (a short write leaves some). */
function skip(buffers: Buffer[], count: number): Buffer[] {
  let left = count;
  let index = 0;
  while (index < buffers.length && left >= buffers[index].length) left -= buffers[index++].length;
  const rest = buffers.slice(index);
  if (left > 0 && rest.length > 0) rest[0] = rest[0].subarray(left);
  return rest;
}
