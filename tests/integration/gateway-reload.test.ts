import { X509Certificate } from 'node:crypto';
import { copyFile, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { type GatewayProcess, startGatewayProcess } from '../../testing/gateway-process';
import { httpsCall } from '../../testing/https-call';
import { basicAuthHeader } from '../../testing/soap-test-client';
import { createCertificate, createHtpasswd } from '../../testing/tls-files';

/**
 * SIGHUP to the compiled gateway: it reads its htpasswd and TLS files again, says in one line
 * what it read (or what failed, keeping the old certificate), and never stops serving; Node's
 * default would have ended the process on the spot.
 */
const NO_BUS = 'unix:path=/nonexistent/disnix-webservice-test-bus';
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gw-reload-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function until(condition: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not seen in time: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The log lines (JSON) whose message starts with `prefix`. */
const linesOf = (gateway: GatewayProcess, prefix: string) =>
  gateway
    .log()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { level: string; message: string })
    .filter((line) => line.message.startsWith(prefix));

/** Sends SIGHUP and waits for its line: answers it. */
async function hangUp(gateway: GatewayProcess): Promise<{ level: string; message: string }> {
  const before = linesOf(gateway, 'SIGHUP').length;
  gateway.child.kill('SIGHUP');
  await until(() => linesOf(gateway, 'SIGHUP').length > before, 'the SIGHUP line');
  return linesOf(gateway, 'SIGHUP')[before];
}

/** The SHA-256 fingerprint of the certificate a new TLS connection gets. */
function servedFingerprint(url: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port), rejectUnauthorized: false }, () => {
      resolve(socket.getPeerX509Certificate()!.fingerprint256);
      socket.end();
    });
    socket.once('error', reject);
  });
}

describe('SIGHUP with --tls-cert and --htpasswd', () => {
  let gateway: GatewayProcess;
  let certFile: string;
  let keyFile: string;
  let htpasswd: string;
  let firstFingerprint: string;
  beforeAll(async () => {
    ({ certFile, keyFile } = await createCertificate(dir, 'served'));
    firstFingerprint = new X509Certificate(await readFile(certFile)).fingerprint256;
    htpasswd = join(dir, 'htpasswd');
    await createHtpasswd(htpasswd, { first: 'first-pw' });
    gateway = await startGatewayProcess(NO_BUS, ['--tls-cert', certFile, '--tls-key', keyFile, '--htpasswd', htpasswd]);
  });
  afterAll(() => gateway?.stop('SIGKILL'));

  const wsdlStatus = async (username: string, password: string, ca: string | Buffer) =>
    (await httpsCall(`${gateway.url}?wsdl`, { ca, headers: { Authorization: basicAuthHeader(username, password) } })).status;

  test('a renewed certificate is served to new connections after SIGHUP, without a restart', async () => {
    expect(await servedFingerprint(gateway.url)).toBe(firstFingerprint);
    const renewed = await createCertificate(dir, 'renewed');
    await copyFile(renewed.keyFile, keyFile);
    await copyFile(renewed.certFile, certFile);
    const line = await hangUp(gateway);
    expect(line.level).toBe('info');
    expect(line.message).toMatch(
      new RegExp(`^SIGHUP: read again: htpasswd file ${htpasswd} \\(1 user\\); TLS certificate ${certFile} \\(valid until .+\\) and key ${keyFile}$`),
    );
    const renewedFingerprint = new X509Certificate(await readFile(certFile)).fingerprint256;
    expect(renewedFingerprint).not.toBe(firstFingerprint);
    expect(await servedFingerprint(gateway.url)).toBe(renewedFingerprint);
    expect(await wsdlStatus('first', 'first-pw', await readFile(certFile))).toBe(200);
    expect(gateway.alive()).toBe(true);
  });

  test('a changed htpasswd file is in force after SIGHUP', async () => {
    const next = join(dir, 'htpasswd.new');
    await createHtpasswd(next, { second: 'second-pw', third: 'third-pw' });
    await rename(next, htpasswd);
    const line = await hangUp(gateway);
    expect(line.message).toContain(`htpasswd file ${htpasswd} (2 users)`);
    const ca = await readFile(certFile);
    expect(await wsdlStatus('second', 'second-pw', ca)).toBe(200);
    expect(await wsdlStatus('first', 'first-pw', ca)).toBe(401);
  });

  test('a broken certificate file is refused with one line saying why; the one in use stays', async () => {
    const inUse = await servedFingerprint(gateway.url);
    const good = await readFile(certFile);
    await writeFile(certFile, 'half a certificate, as a copy still in progress leaves it\n');
    try {
      const line = await hangUp(gateway);
      expect(line).toEqual(
        expect.objectContaining({
          level: 'error',
          message: `SIGHUP: tls-cert ${certFile} holds no PEM certificate: the TLS certificate and key read before stay in use; read again: htpasswd file ${htpasswd} (2 users)`,
        }),
      );
      expect(await servedFingerprint(gateway.url)).toBe(inUse);
      expect(await wsdlStatus('second', 'second-pw', good)).toBe(200);
    } finally {
      await writeFile(certFile, good);
    }
  });

  test('after any number of SIGHUPs, SIGTERM still stops it gracefully', async () => {
    const before = linesOf(gateway, 'SIGHUP').length;
    // Signals sent in a burst may arrive as one (the kernel keeps one pending): at least one line.
    for (let i = 0; i < 3; i += 1) gateway.child.kill('SIGHUP');
    await until(() => linesOf(gateway, 'SIGHUP').length > before, 'a SIGHUP line');
    expect(gateway.alive()).toBe(true);
    expect(await gateway.stop('SIGTERM')).toBe(0);
    expect(gateway.log()).toMatch(/"message":"stopped"/);
  });
});

test('SIGHUP without files to read says so, and the gateway goes on', async () => {
  const gateway = await startGatewayProcess(NO_BUS);
  try {
    expect((await hangUp(gateway)).message).toBe('SIGHUP: nothing to read again (no --htpasswd, no --tls-cert)');
    expect(gateway.alive()).toBe(true);
    expect(await gateway.stop('SIGTERM')).toBe(0);
  } finally {
    await gateway.stop('SIGKILL');
  }
});
