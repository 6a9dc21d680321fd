import { mkdtempSync, readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { optionSpecs } from '../../server/config/options';
import { startPrivateBus, type PrivateBus } from '../../demo/private-bus';
import { type DemoDaemon, startDemoDaemon } from '../../testing/demo-daemon';
import { addDerivation, outputOf } from '../../testing/demo-store';
import { CREDENTIALS, startGatewayProcess } from '../../testing/gateway-process';
import { callRaw, items } from '../../testing/raw-soap';
import { basicAuthHeader, envelope } from '../../testing/soap-test-client';

/**
 * SIGTERM to the compiled gateway: it stops taking calls, lets the calls in flight finish
 * within --shutdown-grace, ends those still running after it with a Fault (not a dropped
 * connection), leaves no temporary file, and exits 0.
 */
let bus: PrivateBus;
let daemon: DemoDaemon;
let uploads: string;

beforeAll(async () => {
  bus = await startPrivateBus();
  daemon = await startDemoDaemon({ busAddress: bus.address });
  uploads = mkdtempSync(join(tmpdir(), 'shutdown-uploads-'));
}, 60_000);
afterAll(async () => {
  await daemon?.stop();
  await bus?.stop();
  await rm(uploads, { recursive: true, force: true });
});

async function until(condition: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test('in-flight calls finish within the grace, later ones end in a Fault, new ones are refused, exit 0', async () => {
  const uploadArgs = 'uploadDir' in optionSpecs ? ['--upload-dir', uploads] : [];
  const gateway = await startGatewayProcess(bus.address, ['--shutdown-grace', '2s', ...uploadArgs]);
  const auth = { username: CREDENTIALS.username, password: CREDENTIALS.password };
  try {
    const quick = await addDerivation(daemon.stateDir, 'finishes-in-grace', { buildMs: 1_000 });
    const slow = await addDerivation(daemon.stateDir, 'outlasts-grace', { buildMs: 60_000 });
    const logsBefore = readdirSync(daemon.logDir).length;
    const finishing = callRaw(gateway.url, 'realise', items('derivation', [quick]), auth);
    const outlasting = callRaw(gateway.url, 'realise', items('derivation', [slow]), auth);
    // A connection busy at the signal, kept alive: a second call on it afterwards must not run.
    const keptAlive = new KeptAliveConnection(gateway.url);
    const firstOnIt = keptAlive.call('realise', items('derivation', [quick]));
    await until(() => readdirSync(daemon.logDir).length >= logsBefore + 3);
    // An upload still arriving at the signal (file transfers, when this build has them).
    const uploading = 'uploadDir' in optionSpecs ? startEndlessUpload(gateway.url) : undefined;
    if (uploading) await until(() => readdirSync(uploads).length > 0);

    gateway.child.kill('SIGTERM');
    const signalled = Date.now();
    await until(() => /SIGTERM: no new calls; waiting up to 2s for \d+ job\(s\)/.test(gateway.log()));

    // New connections are refused; on the kept-alive one, the next call gets a Fault saying
    // why, or the connection is closed: either way no job runs for it.
    await expect(callRaw(gateway.url, 'queryInstalled', '<ns:profile>after</ns:profile>', auth)).rejects.toThrow(/ECONNREFUSED/);
    expect(await firstOnIt).toMatch(/^HTTP\/1\.1 200 /);
    const logsAtSignal = readdirSync(daemon.logDir).length;
    const late = await keptAlive.call('lock', '<ns:profile>late</ns:profile>').catch((error: Error) => `closed: ${error.message}`);
    expect(late).toMatch(/^HTTP\/1\.1 503 [\s\S]*the gateway is shutting down and takes no new calls|^closed: /);
    expect(readdirSync(daemon.logDir).length).toBe(logsAtSignal);
    keptAlive.close();

    const finished = await finishing;
    expect(finished.status).toBe(200);
    expect(finished.returns).toEqual([outputOf(quick)]);

    const cut = await outlasting;
    expect(cut.status).toBe(503);
    expect(cut.faultstring).toMatch(
      /realise job \d+ was still running when the gateway shut down at the end of its 2s grace period \(disnix-service goes on with the job\)/,
    );
    // Not before the grace is over; the upper bound is generous for loaded machines.
    const waited = Date.now() - signalled;
    expect(waited).toBeGreaterThanOrEqual(1_900);
    expect(waited).toBeLessThan(12_000);

    expect(await gateway.exited).toBe(0);
    expect(gateway.log()).toMatch(/"message":"stopped"/);
    // No temporary file left, not even of the upload cut off by the shutdown.
    expect(readdirSync(uploads)).toEqual([]);
    uploading?.destroy();
  } finally {
    await gateway.stop('SIGKILL');
  }
}, 60_000);

test('with nothing in flight it exits at once, well before the grace', async () => {
  const gateway = await startGatewayProcess(bus.address, ['--shutdown-grace', '30s']);
  const signalled = Date.now();
  gateway.child.kill('SIGTERM');
  expect(await gateway.exited).toBe(0);
  expect(Date.now() - signalled).toBeLessThan(10_000);
});

/** One HTTP/1.1 connection kept alive, for calls one after another on the same socket. */
class KeptAliveConnection {
  readonly #socket: Socket;
  readonly #path: string;
  #buffer = '';
  #waiting: { resolve(text: string): void; reject(error: Error): void } | undefined;

  constructor(url: string) {
    const { hostname, port, pathname } = new URL(url);
    this.#path = pathname;
    this.#socket = connect(Number(port), hostname);
    this.#socket.setEncoding('utf8');
    this.#socket.on('data', (chunk: string) => {
      this.#buffer += chunk;
      const length = Number(/content-length: *(\d+)/i.exec(this.#buffer)?.[1] ?? NaN);
      const headerEnd = this.#buffer.indexOf('\r\n\r\n');
      if (headerEnd >= 0 && this.#buffer.length >= headerEnd + 4 + length) {
        const text = this.#buffer;
        this.#buffer = '';
        this.#waiting?.resolve(text);
      }
    });
    this.#socket.on('close', () => this.#waiting?.reject(new Error('the gateway closed the connection')));
    this.#socket.on('error', () => undefined);
  }

  /** Resolves with the raw answer (status line, headers, body). */
  call(operation: string, inner: string): Promise<string> {
    const body = envelope(operation, inner);
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject };
      this.#socket.write(
        `POST ${this.#path} HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive\r\n` +
          `Content-Type: text/xml\r\nAuthorization: ${basicAuthHeader(CREDENTIALS.username, CREDENTIALS.password)}\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
    });
  }

  close(): void {
    this.#socket.destroy();
  }
}

/** Starts an importLocalFile whose file contents keep arriving slowly, and never end. */
function startEndlessUpload(url: string): Socket {
  const { hostname, port, pathname } = new URL(url);
  const socket = connect(Number(port), hostname);
  socket.on('error', () => undefined);
  const head = envelope('importLocalFile', '<ns:closure>').replace(/<\/ns:importLocalFile>[\s\S]*$/, '');
  socket.write(
    `POST ${pathname} HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/xml\r\nTransfer-Encoding: chunked\r\n` +
      `Authorization: ${basicAuthHeader(CREDENTIALS.username, CREDENTIALS.password)}\r\n\r\n`,
  );
  const chunk = (text: string) => socket.write(`${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`);
  chunk(head);
  const timer = setInterval(() => (socket.destroyed ? clearInterval(timer) : chunk(Buffer.alloc(3 * 1024, 7).toString('base64'))), 50);
  socket.on('close', () => clearInterval(timer));
  return socket;
}
