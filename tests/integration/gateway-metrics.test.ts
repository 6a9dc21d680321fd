import request from 'supertest';
import { DEFAULT_SERVICE_PATH } from '../../protocol/operations';
import { useGatewayEnvironment } from '../../testing/gateway-fixture';
import { basicAuthHeader, createSoapTestClient, envelope } from '../../testing/soap-test-client';

/** /metrics in the Prometheus text format, behind the service's auth or on its own listener. */
describe('/metrics behind the service auth', () => {
  const env = useGatewayEnvironment();
  let origin: string;
  let auth: string;

  beforeAll(async () => {
    origin = new URL(env.url).origin;
    auth = basicAuthHeader(env.username, env.password);
  });

  const scrape = async () => {
    const response = await request(origin).get('/metrics').set('Authorization', auth);
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    return response.text;
  };

  test('needs the credentials', async () => {
    expect((await request(origin).get('/metrics')).status).toBe(401);
  });

  test('counts calls by operation and outcome, with their durations', async () => {
    const soap = await createSoapTestClient(env.url, env.username, env.password);
    await soap.call('queryInstalled', { profile: 'metrics' });
    await soap.call('queryInstalled', { profile: 'metrics' });
    await soap.call('lock', { profile: 'metrics' });
    expect(await soap.fault('lock', { profile: 'metrics' })).toMatch(/Cannot exclusively open the lock file/);
    await soap.call('unlock', { profile: 'metrics' });
    expect(await soap.fault('lock', { profile: '../escape' })).toMatch(/must be a name/);

    const text = await scrape();
    expect(sample(text, 'disnix_webservice_calls_total', { operation: 'queryInstalled', outcome: 'success' })).toBe(2);
    expect(sample(text, 'disnix_webservice_calls_total', { operation: 'lock', outcome: 'success' })).toBe(1);
    expect(sample(text, 'disnix_webservice_calls_total', { operation: 'lock', outcome: 'job_failed' })).toBe(1);
    expect(sample(text, 'disnix_webservice_calls_total', { operation: 'lock', outcome: 'bad_request' })).toBe(1);
    expect(sample(text, 'disnix_webservice_calls_total', { operation: 'unlock', outcome: 'success' })).toBe(1);
    expect(sample(text, 'disnix_webservice_call_duration_seconds_count', { operation: 'lock' })).toBe(3);
    expect(sample(text, 'disnix_webservice_call_duration_seconds_bucket', { le: '43200', operation: 'queryInstalled' })).toBe(2);
    expect(text).toMatch(/^# TYPE disnix_webservice_call_duration_seconds histogram$/m);
    expect(text).toMatch(/^process_resident_memory_bytes \d+/m);
  });

  test('counts auth failures: without credentials and with wrong ones', async () => {
    const before = await scrape();
    const post = (header?: string) => {
      const call = request(origin).post(DEFAULT_SERVICE_PATH).set('Content-Type', 'text/xml').send(envelope('lock', '<ns:profile>x</ns:profile>'));
      return header ? call.set('Authorization', header) : call;
    };
    expect((await post()).status).toBe(401);
    expect((await post(basicAuthHeader(env.username, 'wrong'))).status).toBe(401);
    expect((await post(basicAuthHeader('mallory', 'wrong'))).status).toBe(401);
    const after = await scrape();
    const missing = { reason: 'missing' };
    const refused = { reason: 'refused' };
    expect(sample(after, 'disnix_webservice_auth_failures_total', missing) - sample(before, 'disnix_webservice_auth_failures_total', missing)).toBe(1);
    expect(sample(after, 'disnix_webservice_auth_failures_total', refused) - sample(before, 'disnix_webservice_auth_failures_total', refused)).toBe(2);
  });

  test('shows the jobs in flight', async () => {
    expect(sample(await scrape(), 'disnix_webservice_jobs_in_flight')).toBe(0);
    const soap = await createSoapTestClient(env.url, env.username, env.password);
    const started = new Promise((resolve) => env.gateway.relay.once('started', resolve));
    const call = soap.call('activate', {
      derivation: `${env.daemon.storeDir}/${'0'.repeat(32)}-slow`,
      container: 'echo',
      type: 'echo',
      arguments: ['delay=1500'],
    });
    await started;
    expect(sample(await scrape(), 'disnix_webservice_jobs_in_flight')).toBe(1);
    await call;
    expect(sample(await scrape(), 'disnix_webservice_jobs_in_flight')).toBe(0);
  });

  test('counts transferred bytes as the transfer code reports them', async () => {
    expect(sample(await scrape(), 'disnix_webservice_transfer_bytes_total', { direction: 'up' })).toBe(0);
    env.gateway.metrics.countBytes('up', 1000);
    env.gateway.metrics.countBytes('down', 24);
    const text = await scrape();
    expect(sample(text, 'disnix_webservice_transfer_bytes_total', { direction: 'up' })).toBe(1000);
    expect(sample(text, 'disnix_webservice_transfer_bytes_total', { direction: 'down' })).toBe(24);
  });

  test('counts reconnections to the bus, and whether the daemon is there', async () => {
    expect(sample(await scrape(), 'disnix_webservice_daemon_up')).toBe(1);
    expect(sample(await scrape(), 'disnix_webservice_dbus_reconnects_total')).toBe(0);
    await env.bus.restart();
    await env.daemon.exited; // the demo daemon ends with its bus
    await env.restartDaemon();
    const soap = await createSoapTestClient(env.url, env.username, env.password);
    await soap.call('queryInstalled', { profile: 'after-restart' });
    const text = await scrape();
    expect(sample(text, 'disnix_webservice_dbus_reconnects_total')).toBe(1);
    expect(sample(text, 'disnix_webservice_daemon_up')).toBe(1);
  });
});

describe('/metrics on its own listener (--metrics-listen)', () => {
  const env = useGatewayEnvironment({ gatewayArgs: ['--metrics-listen', '127.0.0.1:0'] });

  test('serves metrics and probes there without credentials, and nothing else', async () => {
    const metricsUrl = new URL(env.gateway.metricsUrl!);
    expect(metricsUrl.pathname).toBe('/metrics');
    const response = await request(metricsUrl.origin).get('/metrics');
    expect(response.status).toBe(200);
    expect(response.text).toMatch(/^# TYPE disnix_webservice_calls_total counter$/m);
    expect((await request(metricsUrl.origin).get('/readyz')).status).toBe(200);
    expect((await request(metricsUrl.origin).get(`${DEFAULT_SERVICE_PATH}?wsdl`)).status).toBe(404);
  });

  test('the service listener no longer serves /metrics, even with credentials', async () => {
    const response = await request(new URL(env.url).origin).get('/metrics').set('Authorization', basicAuthHeader(env.username, env.password));
    expect(response.status).toBe(404);
  });
});

/** The value of one sample of the exposition text, found by name and exact label set (in any order). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  const wanted = JSON.stringify(Object.entries(labels).sort());
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match?.[1] !== name) continue;
    const found = [...(match[2] ?? '').matchAll(/([a-z_]+)="([^"]*)"/g)].map((m) => [m[1], m[2]]).sort();
    if (JSON.stringify(found) === wanted) return Number(match[3]);
  }
  throw new Error(`no sample ${name} ${wanted} in:\n${text}`);
}
