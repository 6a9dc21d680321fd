import { type IncomingMessage, type Server, createServer } from 'node:http';
import { type Socket, connect } from 'node:net';
import type { Request } from 'express';
import { GatewayError } from '../../../../server/errors/error-catalogue';
import { type StallLimit, stallLimit } from '../../../../server/http/stall-limit';

/**
 * stallLimit on a real loopback HTTP server: the handler reads the body the way the gateway
 * does (pausing while its sink is busy), the client is a raw socket that sends what it likes.
 */
const LIMIT_MS = 150;
jest.setTimeout(5000);

type Handler = (req: IncomingMessage) => Promise<void>;
let server: Server;
let handler: Handler;
const sockets = new Set<Socket>();

beforeAll(async () => {
  server = createServer((req, res) => {
    void handler(req).finally(() => res.end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});
afterEach(() => {
  for (const socket of sockets) socket.destroy();
  sockets.clear();
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

async function client(length: number): Promise<Socket> {
  const socket = connect((server.address() as { port: number }).port, '127.0.0.1');
  sockets.add(socket);
  socket.on('error', () => undefined);
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write(`POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ${length}\r\n\r\n`);
  return socket;
}

/** Reads the body to its end; rejects when the request fails. */
function readAll(req: IncomingMessage): Promise<number> {
  return new Promise((resolve, reject) => {
    if (req.destroyed) return reject(new Error('aborted'));
    let bytes = 0;
    req.on('data', (chunk: Buffer) => (bytes += chunk.length));
    req.on('end', () => resolve(bytes));
    req.on('error', reject);
    req.on('close', () => {
      if (!req.complete) reject(new Error('aborted'));
    });
    req.resume();
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The outcome of the next request under a stall limit: what `read` resolves with, or the error
 * its failure is explained as; the limit released either way.
 */
function nextOutcome(read: (req: IncomingMessage, stall: StallLimit) => Promise<unknown>): Promise<unknown> {
  return new Promise<unknown>((resolve) => {
    handler = async (req) => {
      const stall = stallLimit(req as Request, LIMIT_MS);
      try {
        resolve(await read(req, stall));
      } catch (error) {
        resolve(stall.explain(error));
      } finally {
        stall.release();
      }
    };
  });
}

describe('stallLimit', () => {
  it('cuts off a caller that sends part of its body and then nothing, and says why', async () => {
    const outcome = nextOutcome((req) => readAll(req));
    const socket = await client(1000);
    socket.write('x'.repeat(100));
    const error = await outcome;
    expect(error).toBeInstanceOf(GatewayError);
    expect((error as GatewayError).code).toBe('GW_ERR_CALLER_GONE');
    expect((error as GatewayError).message).toMatch(/sent nothing for .* \(--upload-stall-timeout\)/);
  });

  it('does not count the time the reader itself holds the body back', async () => {
    const outcome = nextOutcome(async (req) => {
      // As the gateway's reader does while the import does not keep up: paused, for longer than the limit.
      req.pause();
      await sleep(LIMIT_MS * 4);
      return readAll(req);
    });
    const socket = await client(64 * 1024);
    socket.write(Buffer.alloc(64 * 1024));
    expect(await outcome).toBe(64 * 1024);
  });

  it('still cuts off a caller that stalls after the reader held the body back a while', async () => {
    const outcome = nextOutcome(async (req) => {
      req.pause();
      await sleep(LIMIT_MS * 3);
      return readAll(req);
    });
    const socket = await client(1000);
    socket.write('x'.repeat(100));
    expect(await outcome).toMatchObject({ code: 'GW_ERR_CALLER_GONE' });
  });

  it('does not cut off a caller that keeps sending, however slowly', async () => {
    const outcome = nextOutcome((req, stall) => {
      // As the gateway's reader tells it of every piece that arrives.
      req.on('data', () => stall.touch());
      return readAll(req);
    });
    const socket = await client(8);
    // Eight bytes over about four limits, none of the pauses as long as one.
    for (let i = 0; i < 8; i += 1) {
      socket.write('x');
      await sleep(LIMIT_MS / 2);
    }
    expect(await outcome).toBe(8);
  });

  it('once released, lets the connection stay idle', async () => {
    const outcome = new Promise<unknown>((resolve) => {
      handler = async (req) => {
        const stall = stallLimit(req as Request, LIMIT_MS);
        await readAll(req);
        stall.release();
        await sleep(LIMIT_MS * 3);
        resolve(req.socket.destroyed ? 'cut off' : 'still open');
      };
    });
    const socket = await client(10);
    socket.write('0123456789');
    expect(await outcome).toBe('still open');
  });

  it('without a limit, changes nothing', () => {
    const error = new Error('other');
    const stall = stallLimit({} as Request, undefined);
    expect(stall.explain(error)).toBe(error);
    stall.release();
  });
});
