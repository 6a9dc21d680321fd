import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEFAULT_SERVICE_PATH } from '../../protocol/operations';
import { useGatewayEnvironment } from '../../testing/gateway-fixture';
import { type ClientRun, assertClientBuilt, runClient } from '../../testing/run-client';

/**
 * disnix-soap-client as the coordinator runs it, given every kind of bad input: a bad command
 * line, a target that is not there or answers nonsense, refused credentials, a Fault. Each ends
 * with one clear message on stderr, a non-zero exit, and nothing at all on stdout (the
 * coordinator parses stdout, so a partial result there would be taken for an answer).
 */
type Run = Pick<ClientRun, 'code' | 'stdout' | 'stderr'>;

function client(args: readonly string[], env: Record<string, string> = {}): Promise<Run> {
  return runClient(args, env, { timeoutMs: 20_000 });
}

function expectCleanFailure(run: Run, message: RegExp): void {
  expect({ stdout: run.stdout, failed: run.code !== 0 && run.code !== null }).toEqual({ stdout: '', failed: true });
  expect(run.stderr).toMatch(/^disnix-soap-client: /);
  expect(run.stderr).toMatch(message);
  expect(run.stderr).not.toMatch(/^\s+at |internal error|Error: /m);
}

const gw = useGatewayEnvironment();
let fake: Server;
let fakeOrigin: string;
/** What the fake gateway does, by path. */
const fakeRoutes: Record<string, RequestListener> = {
  '/html': (_req, res) => res.writeHead(200, { 'Content-Type': 'text/html' }).end('<html><body>Welcome to nginx</body></html>'),
  '/garbage': (_req, res) => res.writeHead(200, { 'Content-Type': 'text/xml' }).end('\u0000\u0001<<<>>>&&&'),
  '/empty': (_req, res) => res.writeHead(200, { 'Content-Type': 'text/xml' }).end(),
  '/bad-gateway': (_req, res) => res.writeHead(502, { 'Content-Type': 'text/plain' }).end('Bad Gateway'),
  '/redirect': (_req, res) => res.writeHead(301, { Location: 'https://elsewhere.example/x' }).end(),
  // A result cut off in the middle: the returns read so far must not reach stdout.
  '/truncated': (req, res) => {
    req.resume();
    res.writeHead(200, { 'Content-Type': 'text/xml' });
    res.write(
      '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><realiseResponse xmlns="http://service.disnix.nixos.org"><return>/nix/store/partial-1</return><return>/nix/sto',
    );
    setTimeout(() => res.socket?.destroy(), 50);
  },
  '/hang-up': (req) => req.socket.destroy(),
};

beforeAll(async () => {
  assertClientBuilt();
  fake = createServer((req, res) => (fakeRoutes[req.url ?? ''] ?? ((_q, r) => r.writeHead(404).end()))(req, res));
  await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
  fakeOrigin = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;
}, 60_000);
afterAll(async () => {
  await new Promise((resolve) => fake?.close(resolve));
});

const T = 'http://gw.example:8080/DisnixWebService/services/DisnixWebService';

describe('a bad command line', () => {
  test.each<[string[], RegExp]>([
    [[], /no operation given/],
    [['--lock'], /no target given: add --target/],
    [['-t', T], /no operation given/],
    [['-t', T, '--lock', '--bogus'], /unknown option --bogus/],
    [['-t', T, '--lock', '-z'], /unknown option -z/],
    [['--lock', '--target'], /option --target needs a value/],
    [['-t', T, '--lock=yes'], /option --lock takes no value/],
    [['-t', T, '--lock', '--unlock'], /exactly one operation/],
    [['-t', T, '--clean-snapshots', '--keep', 'all'], /--keep needs a whole number/],
    [['-t', T, '--clean-snapshots', '--keep', '-3'], /--keep needs a whole number|option --keep needs a value/],
    [['-t', T, '--import', '/tmp/c'], /--import needs --localfile or --remotefile/],
    [['-t', T, '--import', '--localfile', '--remotefile', '/tmp/c'], /not both/],
    [['-t', T, '--set'], /--set needs a path/],
    [['-t', T, '--activate', '/nix/store/s'], /--activate needs --type/],
    [['-t', T, '--activate', '--type', 'echo'], /--activate needs a path/],
    [['-t', 'gw.example:8080', '--lock'], /is not an http:\/\/ or https:\/\/ URL/],
    [['-t', 'ftp://gw.example/x', '--lock'], /is not an http:\/\/ or https:\/\/ URL/],
    [['--target=', '--lock'], /no target given/],
    [['-t', 'http://', '--lock'], /is not an http:\/\/ or https:\/\/ URL/],
    [['--shell', '-t', T, '--type', 'process', '/nix/store/s'], /--shell cannot travel over the SOAP API/],
    [['-t', T, '--lock', '--profile', 'a\u0001b'], /./],
  ])('%j', async (args, message) => {
    expectCleanFailure(await client(args), message);
  });
});

describe('a target that fails or answers nonsense', () => {
  const credentials = () => ({ DISNIX_SOAP_CLIENT_USERNAME: gw.username, DISNIX_SOAP_CLIENT_PASSWORD: gw.password });
  const gateway = () => new URL(gw.url);

  test.each<[string, () => [string[], Record<string, string>], RegExp]>([
    [
      'nothing listening',
      () => [['-t', 'http://127.0.0.1:1/x', '--lock'], {}],
      /cannot reach the gateway at 127\.0\.0\.1:1: connection refused.*\(ECONNREFUSED\)/,
    ],
    [
      'a host name that does not resolve',
      () => [['-t', 'http://no-such-host.invalid/x', '--lock'], {}],
      /cannot reach the gateway at no-such-host\.invalid:80: .*(ENOTFOUND|EAI_AGAIN)/,
    ],
    [
      'no credentials',
      () => [['-t', gw.url, '--lock'], {}],
      /asks for credentials \(HTTP 401 Unauthorized\) and none are set\nSet DISNIX_SOAP_CLIENT_USERNAME and DISNIX_SOAP_CLIENT_PASSWORD/,
    ],
    [
      'wrong credentials',
      () => [['-t', gw.url, '--lock'], { DISNIX_SOAP_CLIENT_USERNAME: 'x', DISNIX_SOAP_CLIENT_PASSWORD: 'y' }],
      /refused the credentials[\s\S]*DISNIX_SOAP_CLIENT_USERNAME/,
    ],
    ['a wrong path', () => [['-t', `${gateway().origin}/wrong`, '--lock'], credentials()], /no service at \/wrong \(HTTP 404/],
    ['a Fault (the job failed)', () => [['-t', gw.url, '--unlock', '-p', 'never-locked'], credentials()], /There is no lock file!/],
    ['a Fault (the request was refused)', () => [['-t', gw.url, '--lock', '-p', '../escape'], credentials()], /part "profile" must be a name/],
    ['an HTML page', () => [['-t', `${fakeOrigin}/html`, '--lock'], {}], /is not a SOAP response[\s\S]*Welcome to nginx/],
    ['garbage bytes', () => [['-t', `${fakeOrigin}/garbage`, '--lock'], {}], /is not a SOAP response/],
    ['an empty answer', () => [['-t', `${fakeOrigin}/empty`, '--lock'], {}], /is not a SOAP response/],
    ['a 502 from a proxy', () => [['-t', `${fakeOrigin}/bad-gateway`, '--lock'], {}], /answered HTTP 502 Bad Gateway instead of a SOAP response/],
    ['a redirect', () => [['-t', `${fakeOrigin}/redirect`, '--lock'], {}], /it points to https:\/\/elsewhere\.example\/x/],
    [
      'an answer cut off after some results',
      () => [['-t', `${fakeOrigin}/truncated`, '--realise', '/nix/store/a.drv'], {}],
      /closed before the answer was complete|not a SOAP response|unclosed/,
    ],
    [
      'a connection closed without an answer',
      () => [['-t', `${fakeOrigin}/hang-up`, '--lock'], {}],
      /connection to the gateway at .* failed|socket hang up|closed/,
    ],
  ])('%s', async (_name, setup, message) => {
    const [args, env] = setup();
    expectCleanFailure(await client(args, env), message);
  });

  test(`the usual endpoint path is named when the path is wrong (${DEFAULT_SERVICE_PATH})`, async () => {
    const run = await client(['-t', `${new URL(gw.url).origin}/x`, '--lock'], credentials());
    expect(run.stderr).toContain(DEFAULT_SERVICE_PATH);
  });
});
