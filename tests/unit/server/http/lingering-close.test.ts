import { type Server, createServer } from 'node:http';
import { type AddressInfo, type Socket, connect } from 'node:net';
import { closeConnectionsGently, type GentleClose } from '../../../../server/http/lingering-close';

/**
 * A refusal answered while the caller is still sending its body (Connection: close) reaches the
 * caller: the connection is not reset under it; what it still sends is read and dropped until
 * it stops, or for a bounded time; no further request on that connection is run.
 */
let server: Server;
let gentle: GentleClose;
let requests: string[];
const LINGER_MS = 300;

beforeEach(async () => {
  requests = [];
  server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    // Refused at once, its body unread, as the gateway's refusals are.
    res.writeHead(413, { Connection: 'close', 'Content-Type': 'text/plain', 'Content-Length': 8 });
    res.end('refused\n');
  });
  gentle = closeConnectionsGently(server, false, LINGER_MS);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});
afterEach(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** A raw connection that has sent a POST's headers announcing `length` body bytes. */
async function startPost(length: number): Promise<{ socket: Socket; received: () => string; ended: Promise<void>; closed: Promise<Error | undefined> }> {
  // Half-open allowed: the caller goes on sending after the gateway's side has ended.
  const socket = connect({ port: (server.address() as AddressInfo).port, host: '127.0.0.1', allowHalfOpen: true });
  let text = '';
  let firstError: Error | undefined;
  socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
  socket.on('error', (error) => (firstError ??= error));
  const ended = new Promise<void>((resolve) => socket.once('end', resolve));
  const closed = new Promise<Error | undefined>((resolve) => socket.once('close', () => resolve(firstError)));
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  socket.write(`POST /upload HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Length: ${length}\r\n\r\n`);
  return { socket, received: () => text, ended, closed };
}

/** The server's side of a connection closes a moment after the caller's. */
async function noneLingeringSoon(): Promise<void> {
  for (let i = 0; i < 200 && gentle.lingering > 0; i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(gentle.lingering).toBe(0);
}

function write(socket: Socket, bytes: Buffer): Promise<void> {
  return new Promise((resolve, reject) => socket.write(bytes, (error) => (error ? reject(error) : resolve())));
}

test('a caller that goes on sending after the refusal reads it whole, is not reset, and closes normally', async () => {
  const post = await startPost(64 * 1024 * 1024);
  await write(post.socket, Buffer.alloc(1024 * 1024));
  // The answer, then the end of the gateway's side: the answer is complete.
  await post.ended;
  expect(post.received()).toMatch(/^HTTP\/1\.1 413 [^\r]*\r\n[\s\S]*\r\n\r\nrefused\n$/);
  expect(gentle.lingering).toBe(1);
  // More of the body after that is still taken, not answered with a reset.
  for (let i = 0; i < 8; i += 1) await write(post.socket, Buffer.alloc(1024 * 1024));
  post.socket.end();
  expect(await post.closed).toBeUndefined();
  expect(requests).toEqual(['POST /upload']);
  await noneLingeringSoon();
});

test('a caller that never stops sending is cut off after the bounded time', async () => {
  const post = await startPost(1024 * 1024 * 1024);
  await post.ended;
  expect(gentle.lingering).toBe(1);
  const chunk = Buffer.alloc(64 * 1024);
  let sending = true;
  const keepSending = async () => {
    while (sending) await write(post.socket, chunk);
  };
  const sender = keepSending().catch((error: unknown) => error);
  await post.closed;
  sending = false;
  expect(await sender).toMatchObject({ code: expect.stringMatching(/^(EPIPE|ECONNRESET)$/) });
  expect(post.received()).toContain('refused\n');
  await noneLingeringSoon();
});

test('a request sent after the refused one on the same connection is not run', async () => {
  const post = await startPost(16);
  await post.ended;
  await write(post.socket, Buffer.from('0123456789abcdefGET /next HTTP/1.1\r\nHost: test\r\n\r\n'));
  post.socket.end();
  await post.closed;
  expect(requests).toEqual(['POST /upload']);
  expect(post.received().match(/HTTP\/1\.1/g)).toHaveLength(1);
});

test('a request read whole closes as before', async () => {
  const post = await startPost(4);
  await write(post.socket, Buffer.from('body'));
  await post.ended;
  expect(post.received()).toContain('refused\n');
  post.socket.end();
  expect(await post.closed).toBeUndefined();
  await noneLingeringSoon();
});
