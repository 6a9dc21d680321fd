import request from 'supertest';
import { DEFAULT_SERVICE_PATH } from '../../protocol/operations';
import { type GatewayEnvironment, startGatewayEnvironment } from '../../testing/gateway-fixture';
import { recordingLogger } from '../../testing/recording-logger';
import { basicAuthHeader, envelope } from '../../testing/soap-test-client';

/**
 * --trust-proxy: X-Forwarded-* headers make the WSDL name the public URL and the logs name the
 * real client, but only on connections from a trusted proxy. These calls come from 127.0.0.1.
 */
const FORWARDED = {
  'X-Forwarded-Proto': 'https',
  'X-Forwarded-Host': 'deploy.example.org',
  'X-Forwarded-Port': '8443',
  'X-Forwarded-Prefix': '/deploy',
  'X-Forwarded-For': '203.0.113.7',
};

interface Started {
  env: GatewayEnvironment;
  origin: string;
  log: ReturnType<typeof recordingLogger>;
}

async function start(gatewayArgs: string[]): Promise<Started> {
  const log = recordingLogger();
  const env = await startGatewayEnvironment({ gatewayArgs, logger: log });
  return { env, origin: new URL(env.url).origin, log };
}

function wsdlAddress(started: Started, headers: Record<string, string>): Promise<string> {
  const auth = basicAuthHeader(started.env.username, started.env.password);
  return request(started.origin)
    .get(`${DEFAULT_SERVICE_PATH}?wsdl`)
    .set({ Authorization: auth, ...headers })
    .then((response) => {
      expect(response.status).toBe(200);
      return /<soap:address location="([^"]*)"/.exec(response.text)![1];
    });
}

/** Makes a call with these headers; answers the client address the gateway logged for it. */
async function loggedClient(started: Started, headers: Record<string, string>): Promise<unknown> {
  const profile = `forwarded-${Math.random().toString(36).slice(2)}`;
  const response = await request(started.origin)
    .post(DEFAULT_SERVICE_PATH)
    .set({ 'Content-Type': 'text/xml', Authorization: basicAuthHeader(started.env.username, started.env.password), ...headers })
    .send(envelope('queryInstalled', `<ns:profile>${profile}</ns:profile>`));
  expect(response.status).toBe(200);
  const calls = started.log.records.filter((record) => record.message === 'call' && record.operation === 'queryInstalled');
  expect(calls.length).toBeGreaterThan(0);
  return calls[calls.length - 1].client;
}

describe('behind a trusted proxy (--trust-proxy loopback)', () => {
  let gw: Started;
  beforeAll(async () => (gw = await start(['--trust-proxy', 'loopback'])));
  afterAll(() => gw?.env.close());

  test('the WSDL names the public URL: scheme, host, port and path prefix as the client used them', async () => {
    expect(await wsdlAddress(gw, FORWARDED)).toBe(`https://deploy.example.org:8443/deploy${DEFAULT_SERVICE_PATH}`);
  });

  test("the scheme's default port is left out", async () => {
    expect(await wsdlAddress(gw, { ...FORWARDED, 'X-Forwarded-Port': '443', 'X-Forwarded-Prefix': '/' })).toBe(
      `https://deploy.example.org${DEFAULT_SERVICE_PATH}`,
    );
  });

  test('a port in X-Forwarded-Host (what the client used) wins over X-Forwarded-Port (where the proxy listens)', async () => {
    expect(await wsdlAddress(gw, { ...FORWARDED, 'X-Forwarded-Host': 'deploy.example.org:9443' })).toBe(
      `https://deploy.example.org:9443/deploy${DEFAULT_SERVICE_PATH}`,
    );
  });

  test('of headers a chain of proxies appended to, the first (nearest the client) counts', async () => {
    const headers = { 'X-Forwarded-Proto': 'https, http', 'X-Forwarded-Host': 'public.example.org, internal.lan:8080' };
    expect(await wsdlAddress(gw, headers)).toBe(`https://public.example.org${DEFAULT_SERVICE_PATH}`);
  });

  test('without X-Forwarded-Host, the Host header names the host', async () => {
    expect(await wsdlAddress(gw, { 'X-Forwarded-Proto': 'https', Host: 'deploy.example.org' })).toBe(`https://deploy.example.org${DEFAULT_SERVICE_PATH}`);
  });

  test('malformed values are ignored, each falling back on what the connection says', async () => {
    const address = await wsdlAddress(gw, {
      'X-Forwarded-Proto': 'javascript',
      'X-Forwarded-Host': 'a"><evil/>',
      'X-Forwarded-Port': '99999',
      'X-Forwarded-Prefix': '/../<x>',
      Host: 'deploy.example.org:8080',
    });
    expect(address).toBe(`http://deploy.example.org:8080${DEFAULT_SERVICE_PATH}`);
  });

  test("the endpoint's plain-text answer points at the public WSDL too", async () => {
    const response = await request(gw.origin)
      .get(DEFAULT_SERVICE_PATH)
      .set({ Authorization: basicAuthHeader(gw.env.username, gw.env.password), ...FORWARDED });
    expect(response.text).toContain(`its WSDL is at https://deploy.example.org:8443/deploy${DEFAULT_SERVICE_PATH}?wsdl`);
  });

  test('the log names the real client from X-Forwarded-For', async () => {
    expect(await loggedClient(gw, FORWARDED)).toBe('203.0.113.7');
  });

  test('X-Forwarded-For entries before the first untrusted address are not believed', async () => {
    // 198.51.100.1 came from the client itself; the proxy appended the address it saw.
    expect(await loggedClient(gw, { 'X-Forwarded-For': '198.51.100.1, 203.0.113.7' })).toBe('203.0.113.7');
  });
});

describe.each([
  ['from an address not in --trust-proxy', ['--trust-proxy', '192.0.2.1,10.0.0.0/8']],
  ['without --trust-proxy', []],
])('forwarded headers %s are ignored', (_name, gatewayArgs) => {
  let gw: Started;
  beforeAll(async () => (gw = await start(gatewayArgs)));
  afterAll(() => gw?.env.close());

  test('the WSDL names the address the connection came to', async () => {
    const port = new URL(gw.env.url).port;
    expect(await wsdlAddress(gw, FORWARDED)).toBe(`http://127.0.0.1:${port}${DEFAULT_SERVICE_PATH}`);
  });

  test("the log names the connection's peer", async () => {
    expect(await loggedClient(gw, FORWARDED)).toMatch(/^(::ffff:)?127\.0\.0\.1$/);
  });
});
