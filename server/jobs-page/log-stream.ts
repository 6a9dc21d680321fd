import { type FileHandle, open } from 'node:fs/promises';
import { join } from 'node:path';
import type { Request, Response } from 'express';
import type { JobOutcome } from './job-history';

export interface LogStreamOptions {
  /** undefined: disnix-service never said where its logs are (it was not reachable). */
  readonly logDir: string | undefined;
  readonly jobId: number;
  readonly ended: Promise<JobOutcome>;
  readonly pollMs?: number;
}

/** A browser tab need not hold a build's whole output: the end of it is where errors are. */
const MAX_BACKLOG_BYTES = 1024 * 1024;
const CHUNK_BYTES = 64 * 1024;
const HEARTBEAT_MS = 15_000;

/**
 * Sends a job's log as server-sent events while the daemon writes it: `log` events carry text
 * (JSON-encoded, so that any byte sequence is one event), their id is the byte offset reached,
 * so that a reconnecting EventSource (Last-Event-ID) goes on where it stopped; `notice` events
 * say what is missing; one `end` event carries the outcome once the job has ended and its log
 * has been sent in full. Polling the size rather than fs.watch: it works on every file system
 * and a few reads a second cost nothing next to a deployment.
 */
export async function streamJobLog(req: Request, res: Response, options: LogStreamOptions): Promise<void> {
  const pollMs = options.pollMs ?? 250;
  res.status(200).set({
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-store',
    'X-Accel-Buffering': 'no', // nginx would hold the events back otherwise
  });
  res.flushHeaders();
  let closed = false;
  res.on('close', () => (closed = true)); // the browser went away (or the gateway closes)
  const send = (text: string) => {
    if (!closed) res.write(text);
  };
  send('retry: 2000\n\n');
  const heartbeat = setInterval(() => send(': still here\n\n'), HEARTBEAT_MS);

  let offset = Number(/^\d{1,15}$/.exec(req.get('last-event-id') ?? '')?.[0] ?? 0);
  let outcome: JobOutcome | undefined;
  void options.ended.then((o) => (outcome = o));
  let first = true;
  try {
    if (options.logDir === undefined) {
      send(event('notice', { text: 'disnix-service did not say where its logs are (it is not reachable); the log cannot be shown.' }));
    }
    let path = options.logDir === undefined ? undefined : join(options.logDir, String(options.jobId));
    while (!closed) {
      // Read once more after the end is known: the daemon signals once the log is complete.
      const endedBefore = outcome;
      try {
        if (path !== undefined) offset = await sendNew(path, offset, first, send);
      } catch (error) {
        // The headers are out: say it in the stream, and still wait for the outcome.
        send(event('notice', { text: `(the log cannot be read: ${(error as NodeJS.ErrnoException).code ?? String(error)})` }));
        path = undefined;
      }
      first = false;
      if (endedBefore !== undefined) {
        send(event('end', { outcome: endedBefore }));
        break;
      }
      await Promise.race([new Promise((r) => setTimeout(r, pollMs)), options.ended]);
    }
  } finally {
    clearInterval(heartbeat);
    res.end();
  }
}

/** Sends what the file holds past `offset`; answers the new offset. */
async function sendNew(path: string, offset: number, first: boolean, send: (text: string) => void): Promise<number> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch {
    return offset; // not there (yet): a job's log file appears when the daemon registers it
  }
  try {
    const { size } = await handle.stat();
    if (size < offset) offset = 0; // a new file under the same name: start over
    if (first && size - offset > MAX_BACKLOG_BYTES) {
      send(event('notice', { text: `(the first ${size - MAX_BACKLOG_BYTES} bytes of the log are left out)` }));
      offset = size - MAX_BACKLOG_BYTES;
    }
    const buffer = Buffer.alloc(CHUNK_BYTES);
    while (offset < size) {
      const { bytesRead } = await handle.read(buffer, 0, Math.min(CHUNK_BYTES, size - offset), offset);
      if (bytesRead === 0) break;
      const whole = completeUtf8Length(buffer, bytesRead);
      // A character cut at the end of the file waits for its last bytes.
      if (whole === 0) break;
      offset += whole;
      send(`id: ${offset}\n${event('log', { text: buffer.toString('utf8', 0, whole) })}`);
    }
    return offset;
  } finally {
    await handle.close();
  }
}

/** How many of the first `length` bytes end on a character boundary. */
export function completeUtf8Length(buffer: Buffer, length: number): number {
  for (let back = 1; back <= Math.min(3, length); back++) {
    const byte = buffer[length - back];
    if ((byte & 0xc0) === 0x80) continue; // a continuation byte: look further back
    const needed = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return needed > back ? length - back : length;
  }
  return length; // not UTF-8 anyway; send it as it is
}

function event(name: string, data: object): string {
  return `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
}
