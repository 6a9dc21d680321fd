import { randomBytes } from 'node:crypto';
import { readFile, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DEFAULT_SERVICE_PATH } from '../../protocol/operations';
import { addStorePath } from '../../testing/demo-store';
import { httpsCall, soapAddressOf } from '../../testing/https-call';
import { LONG_JOB_MS, type ProxyEnvironment, type ProxySetup, startProxyEnvironment } from '../../testing/proxy-environment';
import { assertClientBuilt } from '../../testing/run-client';
import { basicAuthHeader, envelope } from '../../testing/soap-test-client';

/**
 * The real nginx and Apache httpd of Debian in front of the gateway, each driven with the
 * project's proxy-config file (only ports and paths filled in), TLS and basic auth at the proxy.
 * As the README sets them up: the gateway on a unix socket the proxy reaches through the
 * socket's group; nginx with a gateway running --no-auth (proxy auth only), Apache (AuthType
 * Basic, the classic DisnixWebService setup) with a gateway checking the same credentials again
 * (both). Then, briefly, each the other way round over TCP on 127.0.0.1.
 * All are set up at once; the two jobs beyond the proxies' stock 60 s timeouts start right away
 * and are awaited last, so they run while the other cases do: about 75 s in all.
 */
const setups: readonly ProxySetup[] = [
  { kind: 'nginx', upstream: 'socket', auth: 'proxy' },
  { kind: 'apache', upstream: 'socket', auth: 'both' },
];
const tcpSetups: readonly ProxySetup[] = [
  { kind: 'nginx', upstream: 'tcp', auth: 'both', longJob: false },
  { kind: 'apache', upstream: 'tcp', auth: 'proxy', longJob: false },
];
/** More paths than fit in nginx's stock 1 MiB client_max_body_size, in the request and in the answer. */
const MANY_PATHS = 15_000;
const TRANSFER_MIB = 48;

const environments = new Map<ProxySetup, ProxyEnvironment>();
const environment = (setup: ProxySetup) => environments.get(setup)!;

beforeAll(async () => {
  assertClientBuilt();
  const all = [...setups, ...tcpSetups];
  const started = await Promise.allSettled(all.map((setup) => startProxyEnvironment(setup)));
  started.forEach((result, i) => {
    if (result.status === 'fulfilled') environments.set(all[i], result.value);
  });
  const failed = started.find((result) => result.status === 'rejected');
  if (failed) throw failed.reason;
}, 90_000);

afterAll(async () => {
  await Promise.all([...environments.values()].map((env) => env.close()));
}, 30_000);

const refused = /refused the credentials \(HTTP 401 Unauthorized\)\nSet DISNIX_SOAP_CLIENT_USERNAME and DISNIX_SOAP_CLIENT_PASSWORD/;
/** Without credentials the client says that none are set, and how to set them. */
const noneSet = /asks for credentials \(HTTP 401 Unauthorized\) and none are set\nSet DISNIX_SOAP_CLIENT_USERNAME and DISNIX_SOAP_CLIENT_PASSWORD/;

function authCases(setup: ProxySetup): void {
  test("right credentials: lock, a second lock fails with the daemon's message, unlock", async () => {
    const env = environment(setup);
    const profile = `${setup.kind}-${setup.upstream}-locked`;
    expect(await env.client(['--lock', '--profile', profile])).toMatchObject({ code: 0, stdout: '', stderr: '' });
    const second = await env.client(['--lock', '--profile', profile]);
    expect(second).toMatchObject({ code: 1, stdout: '', stderr: expect.stringMatching(/Cannot exclusively open the lock file!/) });
    expect(await env.client(['--unlock', '--profile', profile])).toMatchObject({ code: 0, stdout: '', stderr: '' });
  });

  const title =
    setup.auth === 'proxy'
      ? 'proxy auth only: an account the gateway does not know is let in by the proxy alone'
      : 'both: an account only the proxy knows is refused by the gateway';
  test(title, async () => {
    const env = environment(setup);
    const { name, password } = env.proxyOnlyUser;
    const run = await env.client(['--profile', `${setup.kind}-proxy-only`, '--query-installed'], {
      DISNIX_SOAP_CLIENT_USERNAME: name,
      DISNIX_SOAP_CLIENT_PASSWORD: password,
    });
    if (setup.auth === 'proxy') expect(run).toMatchObject({ code: 0, stdout: '\n', stderr: '' });
    else expect(run).toMatchObject({ code: 1, stdout: '', stderr: expect.stringMatching(refused) });
  });
}

function forwardingCases(setup: ProxySetup): void {
  const auth = () => ({ Authorization: basicAuthHeader(environment(setup).gw.username, environment(setup).gw.password) });

  test("the WSDL fetched through the proxy names the proxy's https URL", async () => {
    const env = environment(setup);
    const answer = await httpsCall(`${env.target}?wsdl`, { ca: env.ca, headers: auth() });
    expect(answer.status).toBe(200);
    expect(soapAddressOf(answer.text)).toBe(env.target);
    const named = await httpsCall(`${env.target}?wsdl`, { ca: env.ca, headers: { ...auth(), Host: `deploy.example.org:${env.proxy.port}` } });
    expect(soapAddressOf(named.text)).toBe(`https://deploy.example.org:${env.proxy.port}${DEFAULT_SERVICE_PATH}`);
  });

  test("the gateway logs the real client address, not the proxy's nor a forged one", async () => {
    const env = environment(setup);
    const answer = await httpsCall(env.target, {
      ca: env.ca,
      method: 'POST',
      localAddress: '127.0.0.2',
      headers: { ...auth(), 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: '""', 'X-Forwarded-For': '198.51.100.66' },
      body: envelope('queryInstalled', `<ns:profile>${setup.kind}-client-address</ns:profile>`),
    });
    expect(answer.status).toBe(200);
    // nginx names each request ($request_id); the gateway keeps that id and answers it.
    if (setup.kind === 'nginx') expect(answer.headers['x-request-id']).toMatch(/^[0-9a-f]{32}$/);
    const calls = env.log.records.filter((record) => record.message === 'call' && record.operation === 'queryInstalled');
    expect(calls.map((record) => record.client)).toContain('127.0.0.2');
    expect(env.log.records.some((record) => record.client === '198.51.100.66')).toBe(false);
  });
}

describe.each(setups)('$kind in front, the gateway on a unix socket (auth: $auth)', (setup) => {
  describe("the client with the proxy's basic auth", () => {
    authCases(setup);

    test.each([
      ['a wrong password', { DISNIX_SOAP_CLIENT_USERNAME: 'tester', DISNIX_SOAP_CLIENT_PASSWORD: 'wrong' }, refused],
      ['an unknown user', { DISNIX_SOAP_CLIENT_USERNAME: 'mallory', DISNIX_SOAP_CLIENT_PASSWORD: 'test-password-1' }, refused],
      ['no credentials', {}, noneSet],
    ])('%s: exit 1, the 401 explained, and no job runs', async (_name, credentials, explained) => {
      const env = environment(setup);
      let jobs = 0;
      const count = () => (jobs += 1);
      env.gw.gateway.relay.on('started', count);
      const run = await env.client(['--lock', '--profile', `${setup.kind}-refused`], credentials);
      env.gw.gateway.relay.off('started', count);
      expect(run).toMatchObject({ code: 1, stdout: '', stderr: expect.stringMatching(explained) });
      expect(jobs).toBe(0);
    });
  });

  describe('what the gateway learns from the proxy', () => {
    forwardingCases(setup);

    test('X-Forwarded-* headers a client forges are replaced by the proxy', async () => {
      const env = environment(setup);
      const forged = { 'X-Forwarded-Host': 'evil.example', 'X-Forwarded-Proto': 'http', 'X-Forwarded-Port': '1', 'X-Forwarded-Prefix': '/evil' };
      const headers = { Authorization: basicAuthHeader(env.gw.username, env.gw.password), ...forged };
      expect(soapAddressOf((await httpsCall(`${env.target}?wsdl`, { ca: env.ca, headers })).text)).toBe(env.target);
    });
  });

  test(`a large exchange: ${MANY_PATHS} paths (over 1 MiB) each way`, async () => {
    const env = environment(setup);
    const store = dirname(await addStorePath(env.gw.daemon.stateDir, 'store-probe', 'probe\n'));
    const paths = Array.from({ length: MANY_PATHS }, (_, i) => `${store}/${String(i).padStart(32, '0')}-missing-${i}`);
    const run = await env.client(['--print-invalid', ...paths]);
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    expect(run.stdout).toBe(`${paths.join('\n')}\n`);
    expect(Buffer.byteLength(run.stdout)).toBeGreaterThan(1024 * 1024);
  }, 60_000);

  test(`a transfer of ${TRANSFER_MIB} MiB each way: --export --remotefile downloads a closure, --import --localfile uploads it`, async () => {
    const env = environment(setup);
    const content = randomBytes(TRANSFER_MIB * 1024 * 1024);
    const path = await addStorePath(env.gw.daemon.stateDir, `${setup.kind}-big-service`, content);
    const exported = await env.client(['--export', '--remotefile', path]);
    expect({ code: exported.code, stderr: exported.stderr }).toEqual({ code: 0, stderr: '' });
    const closureFile = exported.stdout.trimEnd();
    try {
      expect((await stat(closureFile)).size).toBeGreaterThan(content.length);
      // Nothing refers to the path: garbage collection removes it, the upload brings it back.
      expect(await env.client(['--collect-garbage'])).toMatchObject({ code: 0, stderr: '' });
      expect(await env.client(['--print-invalid', path])).toMatchObject({ code: 0, stdout: `${path}\n` });
      expect(await env.client(['--import', '--localfile', closureFile])).toMatchObject({ code: 0, stdout: '', stderr: '' });
      expect(await env.client(['--print-invalid', path])).toMatchObject({ code: 0, stdout: '' });
      expect((await readFile(path)).equals(content)).toBe(true);
    } finally {
      await rm(closureFile, { force: true });
    }
  }, 120_000);
});

describe.each(tcpSetups)('$kind in front, the gateway on 127.0.0.1 (auth: $auth)', (setup) => {
  authCases(setup);
  forwardingCases(setup);
});

// Last, so that the cases above run while these jobs do.
describe(`a job of ${LONG_JOB_MS / 1000} s, longer than the proxies' stock 60 s timeouts`, () => {
  test.each(setups)(
    'ends normally through $kind',
    async (setup) => {
      const run = await environment(setup).longJob!;
      expect({ code: run.code, stdout: run.stdout, stderr: run.stderr }).toEqual({ code: 0, stdout: '', stderr: '' });
      expect(run.durationMs).toBeGreaterThanOrEqual(LONG_JOB_MS);
    },
    LONG_JOB_MS + 60_000,
  );
});
