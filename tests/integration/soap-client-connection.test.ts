/**
 * disnix-soap-client's connection: where its credentials come from, and what it says when the
 * gateway turns it away, speaks plain HTTP to an https:// target, or the network stalls. The
 * compiled client runs in a child process against the real gateway (and demo daemon) or against
 * small loopback servers that misbehave on purpose. Every timeout here is small and configured;
 * the servers that never answer are closed by the test, and each client run has a generous
 * bound of its own.
 */
import { mkdtemp, open, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type RequestListener, type Server as HttpServer } from 'node:http';
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_SERVICE_PATH } from '../../protocol/operations';
import { type GatewayEnvironment, startGatewayEnvironment } from '../../testing/gateway-fixture';
import { type ClientRun, assertClientBuilt, runClient } from '../../testing/run-client';

const SOAP_NS = 'http://schemas.xmlsoap.org/soap/envelope/';
const DISNIX_NS = 'http://service.disnix.nixos.org';
/** Bounds a client run that should end by itself long before; a hang fails the test instead of stalling it. */
const RUN_BOUND_MS = 60_000;

type Run = Pick<ClientRun, 'code' | 'stdout' | 'stderr'>;

let gw: GatewayEnvironment;
let work: string;

beforeAll(async () => {
  assertClientBuilt();
  gw = await startGatewayEnvironment();
  work = await mkdtemp(join(tmpdir(), 'client-connection-'));
}, 60_000);
afterAll(async () => {
  await gw?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

function client(args: readonly string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  return runClient(args, env, { timeoutMs: RUN_BOUND_MS });
}

function expectSuccess(run: Run, stdout: string): void {
  expect({ code: run.code, stderr: run.stderr, stdout: run.stdout }).toEqual({ code: 0, stderr: '', stdout });
}

/** Exit 1, nothing on stdout, the message on stderr and no stack trace or OpenSSL text. */
function expectFailure(run: Run, message: RegExp): void {
  expect({ code: run.code, stdout: run.stdout }).toEqual({ code: 1, stdout: '' });
  expect(run.stderr).toMatch(/^disnix-soap-client: /);
  expect(run.stderr).toMatch(message);
  expect(run.stderr).not.toMatch(/^\s+at |internal error|SSL routines|Error: /m);
}

async function closeAll(server: Server | HttpServer, sockets: Set<Socket>): Promise<void> {
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => server.close(resolve));
}

/** An HTTP server on loopback that keeps track of its connections, so that closing it cuts even the stalled ones. */
async function httpStub(handler: RequestListener): Promise<{ url: string; close(): Promise<void> }> {
  const server = createHttpServer(handler);
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => sockets.add(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${DEFAULT_SERVICE_PATH}`, close: () => closeAll(server, sockets) };
}

/** A TCP server on loopback that accepts connections and never sends or reads a byte. */
async function silentServer(): Promise<{ port: number; accepted: () => number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createNetServer({ pauseOnConnect: true }, (socket) => sockets.add(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, accepted: () => sockets.size, close: () => closeAll(server, sockets) };
}

describe('credentials', () => {
  it('without any, the 401 message says none are set and names the two variables', async () => {
    expectFailure(
      await client(['--target', gw.url, '--lock']),
      /asks for credentials \(HTTP 401 Unauthorized\) and none are set\nSet DISNIX_SOAP_CLIENT_USERNAME and DISNIX_SOAP_CLIENT_PASSWORD/,
    );
  });

  it('takes the password from DISNIX_SOAP_CLIENT_PASSWORD_FILE (its first line)', async () => {
    const file = join(work, 'password');
    await writeFile(file, `${gw.password}\n`, { mode: 0o600 });
    expectSuccess(
      await client(['--target', gw.url, '-q', '-p', 'password-file'], { DISNIX_SOAP_CLIENT_USERNAME: gw.username, DISNIX_SOAP_CLIENT_PASSWORD_FILE: file }),
      '\n',
    );
  });

  it('names a password file that cannot be read, and why, before calling anyone', async () => {
    const missing = join(work, 'no-such-password');
    expectFailure(
      await client(['--target', gw.url, '--lock'], { DISNIX_SOAP_CLIENT_USERNAME: gw.username, DISNIX_SOAP_CLIENT_PASSWORD_FILE: missing }),
      new RegExp(`^disnix-soap-client: cannot read the password file ${missing} \\(DISNIX_SOAP_CLIENT_PASSWORD_FILE\\): it does not exist\\n$`),
    );
    expectFailure(
      await client(['--target', gw.url, '--lock'], { DISNIX_SOAP_CLIENT_USERNAME: gw.username, DISNIX_SOAP_CLIENT_PASSWORD_FILE: work }),
      /cannot read the password file .* \(DISNIX_SOAP_CLIENT_PASSWORD_FILE\): it is a directory, not a file/,
    );
  });

  it('takes credentials given in the target URL, percent-encoded', async () => {
    const target = new URL(gw.url);
    target.username = gw.username;
    // "%2D" is "-": the URL form of any character a password may hold.
    target.password = gw.password.replace(/-/g, '%2D');
    expect(target.href).toContain('%2D');
    expectSuccess(await client(['--target', target.href, '-q', '-p', 'url-credentials']), '\n');
  });
});

describe('a gateway that turns the client away (HTTP 429)', () => {
  let limited: GatewayEnvironment;
  beforeAll(async () => {
    // No daemon: the login check comes first. One refused login per 10 minutes, then 429.
    limited = await startGatewayEnvironment({ withoutDaemon: true, gatewayArgs: ['--auth-failure-limit', '1/10m'] });
  }, 60_000);
  afterAll(() => limited?.close());

  it('says when to try again, from Retry-After', async () => {
    const wrong = { DISNIX_SOAP_CLIENT_USERNAME: limited.username, DISNIX_SOAP_CLIENT_PASSWORD: 'wrong' };
    expectFailure(await client(['--target', limited.url, '--lock'], wrong), /refused the credentials \(HTTP 401/);
    const run = await client(['--target', limited.url, '--lock'], wrong);
    expectFailure(
      run,
      /turns this client away for now \(HTTP 429 Too Many Requests\), as a rule after too many refused logins from this address\nTry again in \d+ (s|min), with credentials it accepts/,
    );
    expect(run.stderr.trim().split('\n').length).toBe(2);
  });
});

describe('an https:// target whose port speaks plain HTTP', () => {
  it('says so and shows the http:// URL, without OpenSSL text', async () => {
    const plain = new URL(gw.url);
    const run = await client(['--target', `https://${plain.host}${plain.pathname}`, '--lock'], {
      DISNIX_SOAP_CLIENT_USERNAME: 'u',
      DISNIX_SOAP_CLIENT_PASSWORD: 'p',
    });
    expectFailure(
      run,
      new RegExp(`over TLS: the target speaks plain HTTP on that port\\nUse http://${plain.host.replace(/\./g, '\\.')}${plain.pathname} as the target`),
    );
  });
});

describe('timeouts', () => {
  it('--connect-timeout: gives up on a connection that is not ready in time (a TLS handshake never answered)', async () => {
    // On loopback a TCP connect never hangs; a server that accepts and stays silent leaves the
    // TLS handshake, the rest of "connecting" to an https:// target, waiting forever.
    const silent = await silentServer();
    try {
      const run = await client(['--target', `https://127.0.0.1:${silent.port}${DEFAULT_SERVICE_PATH}`, '--lock', '--connect-timeout', '1']);
      expectFailure(
        run,
        new RegExp(`cannot reach the gateway at 127\\.0\\.0\\.1:${silent.port}: no connection within 1 s \\(the connect timeout\\)\\n.*--connect-timeout`),
      );
      expect(silent.accepted()).toBe(1);
    } finally {
      await silent.close();
    }
  });

  it('DISNIX_SOAP_CLIENT_CONNECT_TIMEOUT sets the same limit', async () => {
    const silent = await silentServer();
    try {
      const run = await client(['--target', `https://127.0.0.1:${silent.port}${DEFAULT_SERVICE_PATH}`, '--lock'], {
        DISNIX_SOAP_CLIENT_CONNECT_TIMEOUT: '500ms',
      });
      expectFailure(run, /no connection within 0\.5 s \(the connect timeout\)/);
    } finally {
      await silent.close();
    }
  });

  it('--idle-timeout: gives up on an upload the server stops reading', async () => {
    // Sparse: 64 MiB of zeros that take no disk space, far more than the sockets' buffers hold.
    const closure = join(work, 'big-closure');
    const handle = await open(closure, 'w');
    await handle.truncate(64 * 1024 * 1024);
    await handle.close();
    const silent = await silentServer();
    try {
      const run = await client([
        '--target',
        `http://127.0.0.1:${silent.port}${DEFAULT_SERVICE_PATH}`,
        '--import',
        '--localfile',
        closure,
        '--idle-timeout',
        '1',
      ]);
      expectFailure(run, /the connection to the gateway at 127\.0\.0\.1:\d+ stalled: nothing moved for 1 s while sending the request \(the idle timeout\)/);
    } finally {
      await silent.close();
      await rm(closure, { force: true });
    }
  });

  it('DISNIX_SOAP_CLIENT_IDLE_TIMEOUT: gives up on an answer that stops coming mid-way', async () => {
    const stub = await httpStub((request, response) => {
      request.resume();
      request.on('end', () => {
        response.writeHead(200, { 'Content-Type': 'text/xml' });
        response.write(`<e:Envelope xmlns:e="${SOAP_NS}"><e:Body><d:realiseResponse xmlns:d="${DISNIX_NS}"><d:return>/nix/store/`);
      });
    });
    try {
      const run = await client(['--target', stub.url, '--realise', '/nix/store/x.drv'], { DISNIX_SOAP_CLIENT_IDLE_TIMEOUT: '1' });
      expectFailure(
        run,
        /stalled: nothing moved for 1 s while receiving the answer \(the idle timeout\)\n.*DISNIX_SOAP_CLIENT_IDLE_TIMEOUT sets the limit, 0 removes it/,
      );
    } finally {
      await stub.close();
    }
  });

  it('--idle-timeout: gives up on a download that stops mid-file, and leaves nothing in $TMPDIR', async () => {
    const boundary = 'stall';
    const stub = await httpStub((request, response) => {
      request.resume();
      response.writeHead(200, { 'Content-Type': `multipart/related; type="application/xop+xml"; boundary="${boundary}"`, 'Content-Length': 10_000_000 });
      response.write(
        `--${boundary}\r\nContent-Type: application/xop+xml; type="text/xml"\r\nContent-ID: <root>\r\n\r\n` +
          `<s:Envelope xmlns:s="${SOAP_NS}"><s:Body><t:exportRemoteFileResponse xmlns:t="${DISNIX_NS}">` +
          '<t:return><xop:Include xmlns:xop="http://www.w3.org/2004/08/xop/include" href="cid:file"/></t:return></t:exportRemoteFileResponse></s:Body></s:Envelope>' +
          `\r\n--${boundary}\r\nContent-ID: <file>\r\n\r\n${'x'.repeat(100_000)}`,
      );
    });
    const clientTmp = await mkdtemp(join(work, 'tmp-'));
    try {
      const run = await client(['--target', stub.url, '--export', '--remotefile', '/nix/store/x', '--idle-timeout', '1'], { TMPDIR: clientTmp });
      expectFailure(run, /stalled: nothing moved for 1 s while receiving the answer \(the idle timeout\)/);
      expect(await readdir(clientTmp)).toEqual([]);
    } finally {
      await stub.close();
    }
  });

  it('the idle timeout does not cut off a job: the wait for the answer may outlast it many times', async () => {
    let requestComplete = false;
    const stub = await httpStub((request, response) => {
      request.resume();
      request.on('end', () => {
        requestComplete = true;
        // The job runs three times as long as the idle limit, and the gateway sends nothing meanwhile.
        setTimeout(() => {
          response.writeHead(200, { 'Content-Type': 'text/xml' });
          response.end(`<e:Envelope xmlns:e="${SOAP_NS}"><e:Body><d:lockResponse xmlns:d="${DISNIX_NS}"/></e:Body></e:Envelope>`);
        }, 3000);
      });
    });
    try {
      expectSuccess(await client(['--target', stub.url, '--lock', '--idle-timeout', '1']), '');
      expect(requestComplete).toBe(true);
    } finally {
      await stub.close();
    }
  });
});
