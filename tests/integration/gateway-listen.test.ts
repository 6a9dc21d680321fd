import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { lstat, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_SERVICE_PATH } from '../../protocol/operations';
import { addStorePath } from '../../testing/demo-store';
import { startGatewayEnvironment, useGatewayEnvironment } from '../../testing/gateway-fixture';
import { recordingLogger } from '../../testing/recording-logger';
import { assertClientBuilt, runClient } from '../../testing/run-client';
import { envelope } from '../../testing/soap-test-client';
import { createCertificate } from '../../testing/tls-files';

/** Where the gateway listens: a unix socket (for a proxy on the same machine) and HTTPS of its own. */
let dir: string;
beforeAll(async () => {
  assertClientBuilt();
  dir = await mkdtemp(join(tmpdir(), 'gw-listen-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

interface Answer {
  readonly status: number;
  readonly text: string;
}

/** An HTTP request over the unix socket. */
function overSocket(socketPath: string, method: string, headers: Record<string, string> = {}, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const path = method === 'GET' ? `${DEFAULT_SERVICE_PATH}?wsdl` : DEFAULT_SERVICE_PATH;
    const req = httpRequest({ socketPath, method, path, headers: body ? { 'Content-Type': 'text/xml', ...headers } : headers }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const soapAddress = (answer: Answer) => /<soap:address location="([^"]*)"/.exec(answer.text)?.[1];

describe('--listen-socket', () => {
  let socket: string;
  const log = recordingLogger();
  beforeAll(() => {
    socket = join(dir, 'gateway.sock');
  });
  const env = useGatewayEnvironment(() => ({ listenArgs: ['--listen-socket', socket], gatewayArgs: ['--no-auth', '--trust-proxy', 'loopback'], logger: log }));

  test('the socket file has the default mode 0660: owner and group may connect', async () => {
    const stats = await lstat(socket);
    expect(stats.isSocket()).toBe(true);
    expect((stats.mode & 0o777).toString(8)).toBe('660');
    expect(env.url).toBe(`http://unix:${socket}:${DEFAULT_SERVICE_PATH}`);
  });

  test('calls over the socket need no credentials with --no-auth, and run', async () => {
    const answer = await overSocket(socket, 'POST', {}, envelope('queryInstalled', '<ns:profile>over-socket</ns:profile>'));
    expect(answer.status).toBe(200);
    expect(answer.text).toContain('queryInstalledResponse');
  });

  test('a socket peer is a trusted proxy with "loopback": the WSDL and the log follow its headers', async () => {
    const headers = { 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'deploy.example.org', 'X-Forwarded-For': '203.0.113.9' };
    expect(soapAddress(await overSocket(socket, 'GET', headers))).toBe(`https://deploy.example.org${DEFAULT_SERVICE_PATH}`);
    await overSocket(socket, 'POST', headers, envelope('queryInstalled', '<ns:profile>socket-log</ns:profile>'));
    expect(log.records.filter((r) => r.message === 'call').pop()).toEqual(expect.objectContaining({ client: '203.0.113.9' }));
  });

  test('without forwarded headers the WSDL names the Host the peer sent', async () => {
    expect(soapAddress(await overSocket(socket, 'GET', { Host: 'localhost' }))).toBe(`http://localhost${DEFAULT_SERVICE_PATH}`);
  });
});

describe("the socket file's life", () => {
  const start = (socket: string, extra: string[] = []) =>
    startGatewayEnvironment({ withoutDaemon: true, listenArgs: ['--listen-socket', socket, ...extra], gatewayArgs: ['--no-auth'] });

  test('--socket-mode sets the permissions; the socket is gone after shutdown', async () => {
    const socket = join(dir, 'moded.sock');
    const env = await start(socket, ['--socket-mode', '0600']);
    expect(((await lstat(socket)).mode & 0o777).toString(8)).toBe('600');
    await env.close();
    expect(existsSync(socket)).toBe(false);
  });

  test('a stale socket file, left by a gateway that was killed, is replaced', async () => {
    const socket = join(dir, 'stale.sock');
    await leaveStaleSocket(socket);
    expect((await lstat(socket)).isSocket()).toBe(true);
    const env = await start(socket);
    expect((await overSocket(socket, 'GET')).status).toBe(200);
    await env.close();
  });

  test('a socket some server still listens on is not taken over', async () => {
    const socket = join(dir, 'busy.sock');
    const other = createServer();
    await new Promise<void>((resolve) => other.listen(socket, resolve));
    try {
      await expect(start(socket)).rejects.toThrow(`${socket} is in use: another server listens on it`);
    } finally {
      await new Promise((resolve) => other.close(resolve));
    }
  });

  test('a file that is not a socket is left alone', async () => {
    const socket = join(dir, 'not-a-socket');
    await writeFile(socket, 'precious');
    await expect(start(socket)).rejects.toThrow(`${socket} exists and is not a socket`);
    expect(await readFile(socket, 'utf8')).toBe('precious');
  });
});

/** A socket file whose server died without closing it (SIGKILL). */
async function leaveStaleSocket(path: string): Promise<void> {
  const script = `require('net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`;
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
    child.once('error', reject);
    child.once('exit', () => resolve());
  });
}

describe('--tls-cert and --tls-key: HTTPS served by the gateway', () => {
  let caFile: string;
  let keyFile: string;
  beforeAll(async () => {
    ({ certFile: caFile, keyFile } = await createCertificate(dir, 'gateway'));
  });
  const env = useGatewayEnvironment(() => ({ gatewayArgs: ['--tls-cert', caFile, '--tls-key', keyFile] }));
  const credentials = (): Record<string, string> => ({ DISNIX_SOAP_CLIENT_USERNAME: env.username, DISNIX_SOAP_CLIENT_PASSWORD: env.password });

  test('the client trusts the certificate through NODE_EXTRA_CA_CERTS and calls over https', async () => {
    expect(env.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\//);
    const withCa = { ...credentials(), NODE_EXTRA_CA_CERTS: caFile };
    expect(await runClient(['--lock', '--target', env.url, '--profile', 'tls'], withCa)).toEqual(expect.objectContaining({ code: 0, stderr: '' }));
    const again = await runClient(['--lock', '--target', env.url, '--profile', 'tls'], withCa);
    expect(again).toEqual(expect.objectContaining({ code: 1, stderr: expect.stringMatching(/Cannot exclusively open the lock file!/) }));
    expect(await runClient(['--unlock', '--target', env.url, '--profile', 'tls'], withCa)).toEqual(expect.objectContaining({ code: 0, stderr: '' }));
  });

  test('the client refuses a certificate it does not trust, and says how to trust it', async () => {
    const run = await runClient(['--lock', '--target', env.url, '--profile', 'tls-untrusted'], credentials());
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/its TLS certificate is not trusted \(\w+\)\n.*NODE_EXTRA_CA_CERTS/);
  });

  test('files go both ways over https, and a refused upload says why', async () => {
    const clientTmp = await mkdtemp(join(dir, 'tls-client-'));
    const withCa = { ...credentials(), NODE_EXTRA_CA_CERTS: caFile, TMPDIR: clientTmp };
    const content = randomBytes(8 * 1024 * 1024);
    const path = await addStorePath(env.daemon.stateDir, 'tls-transfer', content);
    const exported = await runClient(['--target', env.url, '--export', '--remotefile', path], withCa);
    expect(exported).toEqual(expect.objectContaining({ code: 0, stderr: '' }));
    const closure = exported.stdout.trimEnd();
    expect(await runClient(['--target', env.url, '--import', '--localfile', closure], withCa)).toEqual(expect.objectContaining({ code: 0, stderr: '' }));

    const refused = await runClient(['--target', env.url, '--import', '--localfile', closure], { ...withCa, DISNIX_SOAP_CLIENT_PASSWORD: 'wrong' });
    expect(refused).toEqual(expect.objectContaining({ code: 1, stderr: expect.stringMatching(/refused the credentials \(HTTP 401 Unauthorized\)/) }));
    const untrusted = await runClient(['--target', env.url, '--import', '--localfile', closure], { ...credentials(), TMPDIR: clientTmp });
    expect(untrusted).toEqual(expect.objectContaining({ code: 1, stderr: expect.stringMatching(/its TLS certificate is not trusted \(\w+\)/) }));
  });

  test('the WSDL fetched over https names the https address', async () => {
    const ca = await readFile(caFile);
    const text = await new Promise<string>((resolve, reject) => {
      const auth = `${env.username}:${env.password}`;
      httpsRequest(`${env.url}?wsdl`, { ca, auth }, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk));
        res.on('end', () => resolve(body));
      })
        .on('error', reject)
        .end();
    });
    expect(text).toContain(`<soap:address location="${env.url}"/>`);
  });
});
