import { DEFAULT_TIMEOUTS } from '../../../soap-client/connection';
import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { type AddressInfo, type Server, type Socket, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { faultEnvelope } from '../../../protocol/codec/soap-envelope';
import { DEFAULT_SERVICE_PATH } from '../../../protocol/operations';
import { ClientError } from '../../../soap-client/errors';
import { callTransfer, noFilesExpected } from '../../../soap-client/transfer-http';

/**
 * A gateway (or whatever stands in front of it) that refuses an upload answers while the client
 * is still sending, then closes the connection, even with a reset: the client reports that
 * answer, never the broken pipe of the rest of its upload.
 */
const UPLOAD_BYTES = 32 * 1024 * 1024;
const ROUNDS = 10;
const REASON = 'the gateway cannot store the upload in /uploads (--upload-dir): ENOSPC';

let work: string;
let closure: string;
let server: Server;
let onConnection: (socket: Socket) => void;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'transfer-http-'));
  closure = join(work, 'closure');
  await writeFile(closure, '');
  await truncate(closure, UPLOAD_BYTES);
  server = createServer((socket) => onConnection(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await rm(work, { recursive: true, force: true });
});

function upload(): Promise<unknown> {
  const url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}${DEFAULT_SERVICE_PATH}`);
  return callTransfer({
    url,
    operation: 'importLocalFile',
    values: { closure: { path: closure, size: UPLOAD_BYTES } },
    form: 'mtom',
    answersFiles: false,
    newFilePath: noFilesExpected,
    timeouts: DEFAULT_TIMEOUTS,
  });
}

/** Once the request's headers are in: the Fault, then a reset with the rest of the upload unread. */
function refuseAndReset(socket: Socket): void {
  socket.once('data', () => {
    const xml = faultEnvelope('soap:Server', REASON);
    socket.write(
      `HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/xml; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(xml)}\r\nConnection: close\r\n\r\n${xml}`,
    );
    socket.resetAndDestroy();
  });
  socket.on('error', () => {});
}

test('a Fault followed by a reset while the upload goes out: the client reports the Fault, every time', async () => {
  onConnection = refuseAndReset;
  const outcomes: string[] = [];
  for (let i = 0; i < ROUNDS; i += 1) {
    const error = await upload().then(
      () => new Error('the upload succeeded'),
      (failure: unknown) => failure as Error,
    );
    outcomes.push(error instanceof ClientError ? error.message : `${error.name}: ${error.message}`);
  }
  expect(outcomes).toEqual(Array(ROUNDS).fill(REASON));
});

test('a reset without an answer: the client says the connection broke while sending', async () => {
  onConnection = (socket) => {
    socket.once('data', () => socket.resetAndDestroy());
    socket.on('error', () => {});
  };
  await expect(upload()).rejects.toThrow(/the connection to the gateway at 127\.0\.0\.1:\d+ failed: .*\((EPIPE|ECONNRESET)\)/);
});
