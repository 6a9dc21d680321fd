import { connect } from 'node:net';

/**
 * Sends recorded request bytes over a plain TCP connection, exactly as recorded (node's http
 * client would rewrite the head and the chunking), and reads the one HTTP/1.1 answer. Like
 * DisnixInterface, which cleans up its transport after every call, one connection per call.
 */
export interface HttpAnswer {
  readonly status: number;
  /** Header values by lower-cased name; repeated headers joined with ", ". */
  readonly headers: Readonly<Record<string, string>>;
  /** The body with any chunked transfer coding removed (content codings such as gzip kept). */
  readonly body: Buffer;
}

export interface SendOptions {
  /**
   * Sends the request in two writes: bytes before this offset, then `between()` is awaited, then
   * the rest. Lets a test watch what the server does with a body that has not fully arrived.
   */
  readonly pauseAt?: number;
  readonly between?: () => Promise<void>;
  readonly timeoutMs?: number;
  /** Connect from this local address (e.g. 127.0.0.2: a client that is not 127.0.0.1). */
  readonly localAddress?: string;
}

export function sendRaw(port: number, request: Buffer, options: SendOptions = {}): Promise<HttpAnswer> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  return new Promise<HttpAnswer>((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', localAddress: options.localAddress });
    let received = Buffer.alloc(0);
    let settled = false;
    const finish = (error: Error | undefined, answer?: HttpAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(answer!);
    };
    const timer = setTimeout(() => finish(new Error(`no complete HTTP answer within ${timeoutMs} ms; got: ${received.toString('latin1', 0, 300)}`)), timeoutMs);
    socket.on('error', (error) => finish(error));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      try {
        const answer = parseAnswer(received, false);
        if (answer) finish(undefined, answer);
      } catch (error) {
        finish(error as Error);
      }
    });
    socket.on('end', () => {
      try {
        const answer = parseAnswer(received, true);
        finish(answer ? undefined : new Error(`the connection closed before a complete answer: ${received.toString('latin1', 0, 300)}`), answer);
      } catch (error) {
        finish(error as Error);
      }
    });
    socket.once('connect', () => {
      void (async () => {
        const at = options.pauseAt;
        if (at === undefined) {
          socket.write(request);
          return;
        }
        socket.write(request.subarray(0, at));
        await options.between?.();
        // The server may already have answered (a refusal before the whole body came).
        if (!settled) socket.write(request.subarray(at));
      })().catch((error: Error) => finish(error));
    });
  });
}

/** The answer once `data` holds all of it, else undefined; `closed`: the server ended the connection. */
function parseAnswer(data: Buffer, closed: boolean): HttpAnswer | undefined {
  let start = 0;
  for (;;) {
    const headEnd = data.indexOf('\r\n\r\n', start);
    if (headEnd < 0) return undefined;
    const [statusLine, ...lines] = data.toString('latin1', start, headEnd).split('\r\n');
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1]);
    if (!Number.isInteger(status)) throw new Error(`not an HTTP status line: ${statusLine}`);
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    }
    const bodyStart = headEnd + 4;
    // An interim answer (100 Continue) comes before the real one.
    if (status >= 100 && status < 200) {
      start = bodyStart;
      continue;
    }
    if (/\bchunked\b/i.test(headers['transfer-encoding'] ?? '')) {
      const body = dechunk(data.subarray(bodyStart));
      return body && { status, headers, body };
    }
    if (headers['content-length'] !== undefined) {
      const length = Number(headers['content-length']);
      return data.length - bodyStart >= length ? { status, headers, body: Buffer.from(data.subarray(bodyStart, bodyStart + length)) } : undefined;
    }
    return closed ? { status, headers, body: Buffer.from(data.subarray(bodyStart)) } : undefined;
  }
}

function dechunk(data: Buffer): Buffer | undefined {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = data.indexOf('\r\n', at);
    if (eol < 0) return undefined;
    const size = parseInt(data.toString('latin1', at, eol).split(';')[0], 16);
    if (!Number.isInteger(size)) throw new Error(`bad chunk size line: ${data.toString('latin1', at, eol)}`);
    if (size === 0) {
      // Trailers (none expected), then the blank line that ends the body.
      return data.indexOf('\r\n\r\n', eol) >= 0 ? Buffer.concat(parts) : undefined;
    }
    if (data.length < eol + 2 + size + 2) return undefined;
    parts.push(data.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
}
