import { PassThrough } from 'node:stream';
import request from 'supertest';
import { createLogger } from '../../server/logging/logger';
import { DEFAULT_SERVICE_PATH } from '../../protocol/operations';
import { startGatewayEnvironment, useGatewayEnvironment } from '../../testing/gateway-fixture';
import { basicAuthHeader, envelope } from '../../testing/soap-test-client';

/** Log lines in JSON or text, each line of a call naming its request id, which the caller gets too. */

/** A logger writing into memory; `lines()` answers what it has written so far. */
function capturingLogger(json: boolean) {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const logger = createLogger({ level: 'debug', json, stream });
  return { logger, lines: () => text.split('\n').filter((line) => line !== '') };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('JSON logs', () => {
  const capture = capturingLogger(true);
  const env = useGatewayEnvironment({ logger: capture.logger, gatewayArgs: ['--job-timeout', 'activate=300ms'] });
  let origin: string;
  let auth: string;

  beforeAll(async () => {
    origin = new URL(env.url).origin;
    auth = basicAuthHeader(env.username, env.password);
  });

  const post = (body: string, headers: Record<string, string> = {}) =>
    request(origin)
      .post(DEFAULT_SERVICE_PATH)
      .set({ 'Content-Type': 'text/xml', Authorization: auth, ...headers })
      .send(body);
  const records = () => capture.lines().map((line) => JSON.parse(line) as Record<string, unknown>);
  const linesOf = (requestId: string) => records().filter((record) => record.requestId === requestId);

  test('every line is one JSON object with a level, a message and a timestamp', async () => {
    await post(envelope('queryInstalled', '<ns:profile>json-log</ns:profile>'));
    expect(capture.lines().length).toBeGreaterThan(0);
    for (const record of records()) {
      expect(record).toEqual(expect.objectContaining({ level: expect.any(String), message: expect.any(String), timestamp: expect.any(String) }));
    }
  });

  test('a sane X-Request-Id from the caller is kept, answered and logged with the call', async () => {
    const response = await post(envelope('queryInstalled', '<ns:profile>traced</ns:profile>'), { 'X-Request-Id': 'proxy-42.a:b/c' });
    expect(response.status).toBe(200);
    expect(response.headers['x-request-id']).toBe('proxy-42.a:b/c');
    expect(linesOf('proxy-42.a:b/c')).toEqual([expect.objectContaining({ message: 'call', operation: 'queryInstalled', outcome: 'success', user: 'tester' })]);
  });

  test.each([
    ['none', undefined],
    ['one with spaces', 'drop table; --'],
    ['one with quotes', 'a"b'],
    ['one too long', 'x'.repeat(200)],
  ])('without a usable X-Request-Id (%s), one is made up, answered and logged', async (_name, incoming) => {
    const response = await post(envelope('queryInstalled', '<ns:profile>made-up</ns:profile>'), incoming === undefined ? {} : { 'X-Request-Id': incoming });
    const id = response.headers['x-request-id'];
    expect(id).toMatch(UUID);
    expect(linesOf(id)).toHaveLength(1);
  });

  test('a failed call logs its job log under its request id', async () => {
    await post(envelope('lock', '<ns:profile>twice</ns:profile>'));
    const response = await post(envelope('lock', '<ns:profile>twice</ns:profile>'));
    expect(response.status).toBe(500);
    const [line] = linesOf(response.headers['x-request-id']);
    expect(line).toEqual(
      expect.objectContaining({
        level: 'warn',
        message: 'call',
        operation: 'lock',
        outcome: 'GW_ERR_JOB_FAILED',
        log: expect.stringMatching(/Cannot exclusively open the lock file/),
      }),
    );
  });

  test('lines written deep in the call (a job timing out) carry its request id too', async () => {
    const path = `${env.daemon.storeDir}/${'1'.repeat(32)}-sleepy`;
    const body = envelope(
      'activate',
      `<ns:derivation>${path}</ns:derivation><ns:container>echo</ns:container><ns:type>echo</ns:type><ns:arguments>delay=3000</ns:arguments>`,
    );
    const response = await post(body, { 'X-Request-Id': 'slow-call' });
    expect(response.status).toBe(500);
    const lines = linesOf('slow-call');
    expect(lines.map((line) => line.message)).toEqual([expect.stringMatching(/^activate job \d+ got no answer from disnix-service within 300ms$/), 'call']);
  });

  test('lines written when disnix-service leaves mid-job carry the request id of each call it was running', async () => {
    const path = `${env.daemon.storeDir}/${'2'.repeat(32)}-orphan`;
    const body = (delay: number) =>
      envelope(
        'deactivate',
        `<ns:derivation>${path}</ns:derivation><ns:container>echo</ns:container><ns:type>echo</ns:type><ns:arguments>delay=${delay}</ns:arguments>`,
      );
    let started = 0;
    const bothStarted = new Promise<void>((resolve) => env.gateway.relay.on('started', () => ++started === 2 && resolve()));
    // then() sends a supertest request; the jobs must run before the daemon is killed.
    const calls = ['orphan-1', 'orphan-2'].map((id) => post(body(20_000), { 'X-Request-Id': id }).then((response) => response));
    await bothStarted;
    await env.daemon.kill('SIGKILL');
    await Promise.all(calls);
    await env.restartDaemon();
    for (const id of ['orphan-1', 'orphan-2']) {
      expect(linesOf(id).map((line) => line.message)).toEqual([
        expect.stringMatching(/^deactivate job \d+ was still running when disnix-service left the bus$/),
        'call',
      ]);
    }
  });

  test('the probes answer a request id as well', async () => {
    const response = await request(origin).get('/healthz').set('X-Request-Id', 'probe-1');
    expect(response.headers['x-request-id']).toBe('probe-1');
  });

  test('neither the password nor the Authorization header ever reaches the log', () => {
    const all = capture.lines().join('\n');
    expect(all).not.toContain(env.password);
    expect(all).not.toContain(auth.slice('Basic '.length));
  });
});

describe('text logs', () => {
  test('are one readable line with key=value details, the request id among them', async () => {
    const capture = capturingLogger(false);
    const env = await startGatewayEnvironment({ logger: capture.logger });
    try {
      const response = await request(new URL(env.url).origin)
        .post(DEFAULT_SERVICE_PATH)
        .set({ 'Content-Type': 'text/xml', Authorization: basicAuthHeader(env.username, env.password), 'X-Request-Id': 'text-1' })
        .send(envelope('queryInstalled', '<ns:profile>text</ns:profile>'));
      expect(response.status).toBe(200);
      expect(capture.lines()).toContainEqual(expect.stringMatching(/^\S+ info call requestId=text-1 operation=queryInstalled user=tester .*outcome=success$/));
    } finally {
      await env.close();
    }
  });
});

test.each([true, false])('secrets passed to a log line are redacted (json: %s)', (json) => {
  const capture = capturingLogger(json);
  capture.logger.info('login', { user: 'u', password: 'hunter2', Authorization: 'Basic aHVudGVyMg==' });
  const [line] = capture.lines();
  expect(line).not.toMatch(/hunter2|aHVudGVyMg/);
  expect(line).toContain('[redacted]');
});
