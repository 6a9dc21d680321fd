import { execFile } from 'node:child_process';
import { constants, open as openDescriptor } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { createFileSink, type FileSink } from '../../protocol/codec/file-sink';
import type { OperationName } from '../../protocol/operations';
import { type JobContext, runJob } from './relay-operation';

/**
 * Import while receiving: the closure of an importLocalFile call goes into a named pipe that
 * disnix-service's import job reads while the bytes arrive, instead of into a file the job reads
 * once the upload is whole. The upload and the import overlap, and no copy of the closure is
 * written to disk on the way.
 *
 * disnix-service opens the path with a blocking open(O_RDONLY) in its main loop, before it
 * answers the call, and gives it to `nix-store --import` as stdin. An open of a pipe without a
 * writer would block the daemon for good, so:
 * - the gateway holds the pipe open for writing (O_RDWR, which never blocks) before it calls
 *   import, so the daemon's open returns at once;
 * - it removes the pipe's name as soon as the daemon has answered (so after that open), or before
 *   it gives up on the call, so nobody opens the pipe later;
 * - it closes its end, which is the closure's end for nix-store, only after the daemon has
 *   answered, or a second after the name is gone (an open under way then has long returned).
 * A caller that goes away, stalls (--upload-stall-timeout) or sends a request that turns out to
 * be wrong gets its closure ended short: the last piece received is held back until the call's
 * arguments are checked, so the import then fails on a truncated closure. A gateway killed
 * between its call and the daemon's open leaves a pipe nobody writes to: the next start opens
 * every such pipe once (releaseAbandonedPipes in upload-area), which ends the daemon's wait.
 *
 * Where no named pipe can be made (a file system without them), the closure goes to a file at
 * the same path and is imported once it is whole, as before.
 */
export interface StreamedImport extends FileSink {
  /** Sends what was held back, ends the closure and waits for the import job's end. */
  commit(): Promise<void>;
  /** Ends the closure short, so that the import fails, and waits for that; never fails. */
  abandon(): Promise<void>;
}

const run = promisify(execFile);
// A bare descriptor, not a FileHandle: the socket owns it, and a FileHandle would close it when collected.
const openFd = promisify(openDescriptor);

/** Enough to keep a fast link busy while nix-store catches up, little enough to stay flat. */
const WRITE_BUFFER_BYTES = 1024 * 1024;
/** How long an open the daemon began before the pipe's name went away may still take. */
const OPEN_GRACE_MS = 1000;

type Outcome = { ok: true } | { ok: false; error: unknown };

export function startStreamedImport(path: string, context: JobContext, onFallback: (reason: string) => void): StreamedImport {
  let bytes = 0;
  let held: Buffer | undefined;
  let file: FileSink | undefined;
  let pipe: Socket | undefined;
  let job: Promise<unknown> | undefined;
  let ended: Outcome | undefined;
  let answered = false;
  let abandoned: Promise<void> | undefined;
  let onAnswer: () => void = () => undefined;
  const daemonAnswered = new Promise<void>((resolve) => (onAnswer = resolve));

  const removeName = () => unlink(path).catch(() => undefined);

  const setup: Promise<void> = (async () => {
    try {
      await run('mkfifo', ['-m', '600', '--', path]);
      const fd = await openFd(path, constants.O_RDWR | constants.O_NONBLOCK);
      pipe = new Socket({ fd, readable: false, writable: true, writableHighWaterMark: WRITE_BUFFER_BYTES } as ConstructorParameters<typeof Socket>[0]);
    } catch (error) {
      await removeName();
      onFallback((error as NodeJS.ErrnoException).code ?? (error as Error).message);
      file = createFileSink(path);
      return;
    }
    // Its failures reach the writes through their callbacks.
    pipe.on('error', () => undefined);
    job = runJob(context, 'importLocalFile', 'importm', [path], false, () => {
      answered = true;
      onAnswer();
      void removeName();
    }).then(
      () => {
        ended = { ok: true };
      },
      (error: unknown) => {
        ended = { ok: false, error };
        onAnswer();
      },
    );
  })();

  /** Waits for `written` unless the job ends first: then a failure is thrown, a success drops the rest. */
  const unlessJobEnds = async (written: Promise<void>): Promise<void> => {
    await Promise.race([written, job]);
    if (ended && !ended.ok) throw ended.error;
  };

  const send = (chunk: Buffer): Promise<void> | undefined => {
    if (ended) return ended.ok ? undefined : Promise.reject(ended.error);
    const written = new Promise<void>((resolve, reject) => pipe!.write(chunk, (error) => (error ? reject(error) : resolve())));
    written.catch(() => undefined);
    // Waited for only when the buffer is full: the reader is then slower than the caller.
    return pipe!.writableNeedDrain ? unlessJobEnds(written) : undefined;
  };

  const flushed = (): Promise<void> => {
    if (ended || pipe!.writableLength === 0) return Promise.resolve();
    return unlessJobEnds(new Promise<void>((resolve) => pipe!.write(Buffer.alloc(0), () => resolve())));
  };

  return {
    path,
    get bytes() {
      return bytes;
    },
    write(chunk) {
      if (chunk.length === 0) return undefined;
      bytes += chunk.length;
      if (file) return file.write(chunk);
      if (pipe) {
        const out = held;
        held = chunk;
        return out && send(out);
      }
      return setup.then(() => {
        if (file) return file.write(chunk);
        held = chunk;
      });
    },
    async close() {
      await setup;
      if (file) await file.close();
      return bytes;
    },
    abort() {
      void this.abandon();
    },
    async commit() {
      await setup;
      if (file) {
        await runJob(context, 'importLocalFile', 'importm', [path], false);
        return;
      }
      if (held) await send(held);
      held = undefined;
      await flushed();
      await daemonAnswered;
      pipe!.destroy();
      await job;
      if (!ended?.ok) throw (ended as { error: unknown } | undefined)?.error;
    },
    abandon() {
      abandoned ??= (async () => {
        await setup.catch(() => undefined);
        if (file) {
          file.abort();
          return;
        }
        held = undefined;
        await removeName();
        if (!answered) await Promise.race([daemonAnswered, sleep(OPEN_GRACE_MS)]);
        pipe!.destroy();
        // The job fails on the closure cut short; only a daemon that answered will say so soon.
        if (answered) await job;
      })();
      return abandoned;
    },
  };
}

/** A call's closure imported while it arrives: importLocalFile's one file, none for other calls. */
export interface CallImport {
  /** The sink for the next file the call receives: the streamed import for its first closure, else none. */
  openFile(operation: OperationName | undefined, path: string): StreamedImport | undefined;
  /** The streamed import that received the file at this path, if one did. */
  receivedAt(path: string): StreamedImport | undefined;
  /** Ends a streamed import not committed (the call failed), and waits for that. */
  abandon(): Promise<void>;
}

export function callImport(context: JobContext, onFallback: (reason: string) => void): CallImport {
  let streamed: StreamedImport | undefined;
  return {
    openFile(operation, path) {
      if (operation !== 'importLocalFile' || streamed !== undefined) return undefined;
      return (streamed = startStreamedImport(path, context, onFallback));
    },
    receivedAt: (path) => (streamed?.path === path ? streamed : undefined),
    abandon: () => streamed?.abandon() ?? Promise.resolve(),
  };
}
