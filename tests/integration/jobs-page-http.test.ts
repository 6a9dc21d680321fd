import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import request from 'supertest';
import { addStorePath } from '../../testing/demo-store';
import { useGatewayEnvironment } from '../../testing/gateway-fixture';
import { basicAuthHeader, createSoapTestClient, type SoapTestClient } from '../../testing/soap-test-client';
import { openEventStream } from '../../testing/sse-reader';

/** The jobs page's data endpoints: the job list, its filters, job logs and their live stream. */
const env = useGatewayEnvironment();
let origin: string;
let auth: string;
let soap: SoapTestClient;
let webApp: string;
const PAGE = '/DisnixWebService/';
const HOSTILE = '<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">';

interface JobJson {
  id: number;
  jobId: number | null;
  operation: string;
  outcome: string;
  user: string | null;
  client: string | null;
  message: string | null;
  arguments: { name: string; full: string; short: string }[];
}

beforeAll(async () => {
  origin = new URL(env.url).origin;
  auth = basicAuthHeader(env.username, env.password);
  soap = await createSoapTestClient(env.url, env.username, env.password);
  webApp = await addStorePath(env.daemon.stateDir, 'web-app', 'a web application\n');
  // One of each: a success, a failure (with its log), a call that never became a job.
  await soap.call('lock', { profile: 'jobs-page' });
  await soap.fault('unlock', { profile: 'never-locked' });
  await soap.fault('activate', { derivation: webApp, container: 'echo', type: 'echo', arguments: [`fail=${HOSTILE}`] });
  await soap.fault('set', { profile: 'default' });
});

const get = (path: string) => request(origin).get(`${PAGE}${path}`).set('Authorization', auth);
const jobs = async (query = ''): Promise<JobJson[]> => {
  const response = await get(`api/jobs${query}`).expect(200);
  return response.body.jobs;
};

test('everything of the page needs the same credentials as the service', async () => {
  const id = (await jobs())[0].jobId ?? 1;
  for (const path of ['', 'static/jobs-page.js', 'api/jobs', `api/jobs/${id}/log`, `api/jobs/${id}/log/stream`]) {
    const response = await request(origin).get(`${PAGE}${path}`);
    expect([path, response.status]).toEqual([path, 401]);
    expect(response.headers['www-authenticate']).toBe('Basic realm="DisnixWebService"');
  }
});

test('the page: a strict CSP, the WSDL link, the operations, its own script and style', async () => {
  const page = await get('').expect(200);
  expect(page.headers['content-type']).toMatch(/^text\/html/);
  expect(page.headers['content-security-policy']).toMatch(/default-src 'none'; script-src 'self'; style-src 'self'/);
  expect(page.text).toContain('<a id="wsdl" href="services/DisnixWebService?wsdl">');
  expect(page.text).toContain('<li><code>collectGarbage</code> — ');
  expect(page.text).not.toMatch(/<script>|onerror|https?:\/\//); // no inline script, nothing from elsewhere
  expect((await get('static/jobs-page.js').expect(200)).headers['content-type']).toMatch(/^text\/javascript/);
  expect((await get('static/jobs-page.css').expect(200)).headers['content-type']).toMatch(/^text\/css/);
  await get('static/index.html').expect(404); // the template is not served raw
  const bare = await request(origin).get('/DisnixWebService').set('Authorization', auth).expect(301);
  expect(bare.headers.location).toBe('DisnixWebService/'); // relative: survives a prefixing proxy
});

test('the list: newest first, with arguments, user, client and outcome; rejected calls too', async () => {
  const list = await jobs();
  expect(list.map((job) => [job.operation, job.outcome])).toEqual([
    ['set', 'rejected'],
    ['activate', 'failure'],
    ['unlock', 'failure'],
    ['lock', 'success'],
  ]);
  const [set, activate, , lock] = list;
  expect(lock).toMatchObject({ user: 'tester', arguments: [{ name: 'profile', full: 'jobs-page', short: 'jobs-page' }] });
  expect(lock.client).toMatch(/127\.0\.0\.1/);
  expect(typeof lock.jobId).toBe('number');
  expect(activate.arguments[0]).toEqual({ name: 'derivation', full: webApp, short: '…-web-app' });
  expect(set).toMatchObject({ jobId: null, message: expect.stringMatching(/set: part "derivation" is missing/) });
});

test('filters by outcome and operation; unknown ones are refused', async () => {
  expect((await jobs('?outcome=failure')).map((j) => j.operation)).toEqual(['activate', 'unlock']);
  expect((await jobs('?outcome=failed')).map((j) => j.operation)).toEqual(['set', 'activate', 'unlock']);
  expect((await jobs('?operation=lock,unlock')).map((j) => j.operation)).toEqual(['unlock', 'lock']);
  expect(await jobs('?outcome=success&operation=unlock')).toEqual([]);
  expect((await get('api/jobs?outcome=exploded').expect(400)).body.error).toMatch(/unknown outcome "exploded"/);
  expect((await get('api/jobs?operation=rm').expect(400)).body.error).toMatch(/unknown operation "rm"/);
});

test("a job's log: plain text that no browser takes for markup", async () => {
  const [activate, unlock] = await jobs('?outcome=failure');
  const log = await get(`api/jobs/${unlock.jobId}/log`).expect(200);
  expect(log.headers['content-type']).toBe('text/plain; charset=utf-8');
  expect(log.text).toContain('There is no lock file!');
  const hostile = await get(`api/jobs/${activate.jobId}/log`).expect(200);
  expect(hostile.text).toContain(HOSTILE);
  expect(hostile.headers['x-content-type-options']).toBe('nosniff');
  expect(hostile.headers['content-security-policy']).toMatch(/default-src 'none'/);
});

test('only job ids of the history can be read', async () => {
  const known = (await jobs()).map((job) => job.jobId);
  const unknown = Math.max(...known.filter((id): id is number => id !== null)) + 1000;
  for (const id of [String(unknown), '0', '-1', 'abc', '1e3', '..%2F..%2Fetc%2Fpasswd', '99999999999999']) {
    await get(`api/jobs/${id}/log`).expect(404);
    await get(`api/jobs/${id}/log/stream`).expect(404);
  }
});

test('the live log: lines arrive while the job runs, and the stream ends with it', async () => {
  const running = soap.call('activate', { derivation: webApp, container: 'echo', type: 'echo', arguments: ['delay=5000'] }); // long enough to be seen running on a busy machine
  let job: JobJson | undefined;
  while (!(job = (await jobs('?outcome=running'))[0])?.jobId) await new Promise((r) => setTimeout(r, 50));
  const stream = await openEventStream(`${origin}${PAGE}api/jobs/${job.jobId}/log/stream`, { Authorization: auth });
  expect(stream.status).toBe(200);
  expect(stream.headers['content-type']).toMatch(/^text\/event-stream/);
  await stream.waitFor((e) => e.event === 'log' && e.data.includes('Echo module: Activate service'));
  // Written while the job runs, as the daemon would: the stream picks it up.
  await appendFile(join(env.daemon.logDir, String(job.jobId)), `${HOSTILE}\n`);
  const hostile = await stream.waitFor((e) => e.event === 'log' && JSON.parse(e.data).text.includes(HOSTILE));
  const end = await stream.waitFor((e) => e.event === 'end');
  await running;
  await stream.closed;
  expect(hostile.at).toBeLessThan(end.at);
  expect(JSON.parse(end.data)).toEqual({ outcome: 'success' });
  expect(stream.events.at(-1)).toBe(end);

  // Reconnecting with the last id received goes on from there: nothing twice.
  const firstId = stream.events.find((e) => e.event === 'log')!.id!;
  const resumed = await openEventStream(`${origin}${PAGE}api/jobs/${job.jobId}/log/stream`, { Authorization: auth, 'Last-Event-ID': firstId });
  await resumed.closed;
  const text = (events: typeof stream.events) =>
    events
      .filter((e) => e.event === 'log')
      .map((e) => JSON.parse(e.data).text)
      .join('');
  expect(text(stream.events).slice(0, Number(firstId)) + text(resumed.events)).toBe(text(stream.events));
  expect(text(resumed.events)).toContain(HOSTILE);
});

test("an ended job's stream sends its whole log at once, then its outcome", async () => {
  const [unlock] = await jobs('?operation=unlock');
  const stream = await openEventStream(`${origin}${PAGE}api/jobs/${unlock.jobId}/log/stream`, { Authorization: auth });
  await stream.closed;
  expect(stream.events.map((e) => e.event)).toEqual(['log', 'end']);
  expect(JSON.parse(stream.events[0].data).text).toMatch(/There is no lock file!/);
  expect(JSON.parse(stream.events[1].data)).toEqual({ outcome: 'failure' });
});

test('the list tells whether disnix-service is there', async () => {
  expect((await get('api/jobs').expect(200)).body).toMatchObject({ daemonReady: true, historyLimit: 500 });
});
