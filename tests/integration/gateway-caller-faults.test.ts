import { request as httpRequest } from 'node:http';
import { Writable } from 'node:stream';
import { createLogger } from '../../server/logging/logger';
import { addDerivation, outputOf } from '../../testing/demo-store';
import { useGatewayEnvironment } from '../../testing/gateway-fixture';
import { callRaw, items } from '../../testing/raw-soap';
import { basicAuthHeader, envelope } from '../../testing/soap-test-client';

/**
 * Callers that hang up: mid-call (their job still running) or mid-request. The gateway forgets
 * what it held for them (pending-job entries), logs it, and goes on serving everyone else.
 */
let logText = '';
const sink = new Writable({
  write(chunk: Buffer, _encoding, done) {
    logText += chunk.toString();
    done();
  },
});
const env = useGatewayEnvironment({ logger: createLogger({ level: 'debug', json: true, stream: sink }) });

const headers = () => ({ 'Content-Type': 'text/xml', Authorization: basicAuthHeader(env.username, env.password) });

async function until(condition: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test('callers that hang up mid-call: every pending-job entry is freed, each is logged, others are served', async () => {
  const slow = await Promise.all(Array.from({ length: 20 }, (_, i) => addDerivation(env.daemon.stateDir, `abandoned-${i}`, { buildMs: 20_000 })));
  let started = 0;
  const onStarted = () => (started += 1);
  env.gateway.relay.on('started', onStarted);
  const requests = slow.map((drv) => {
    const req = httpRequest(env.url, { method: 'POST', agent: false, headers: headers() });
    req.on('error', () => undefined);
    req.end(envelope('realise', items('derivation', [drv])));
    return req;
  });
  await until(() => started === slow.length);
  env.gateway.relay.off('started', onStarted);
  expect(env.gateway.relay.inFlight).toBe(slow.length);

  // Meanwhile a patient caller is served.
  const quick = await addDerivation(env.daemon.stateDir, 'patient');
  const patient = callRaw(env.url, 'realise', items('derivation', [quick]), { username: env.username, password: env.password });

  for (const req of requests) req.destroy();
  await until(() => env.gateway.relay.inFlight === 0);
  expect((await patient).returns).toEqual([outputOf(quick)]);
  await until(() => (logText.match(/"outcome":"GW_ERR_CALLER_GONE"/g) ?? []).length === slow.length);
  expect(logText).toMatch(/"log":"the caller went away; job \d+ goes on without it"/);
});

test('callers that hang up mid-request: logged as such, not as an error, and nothing is held for them', async () => {
  logText = '';
  for (let i = 0; i < 10; i += 1) {
    const req = httpRequest(env.url, { method: 'POST', agent: false, headers: { ...headers(), 'Content-Length': '200000' } });
    req.on('error', () => undefined);
    // Well-formed as far as it goes: the request is cut short, not wrong.
    const start = envelope('lock', '<ns:profile>');
    req.write(start.slice(0, start.indexOf('</ns:lock>')).padEnd(100_000, ' '));
    await new Promise((resolve) => setTimeout(resolve, 50));
    req.destroy();
  }
  await until(() => (logText.match(/the caller went away before its request was read/g) ?? []).length === 10);
  expect(logText).not.toMatch(/"level":"error"/);
  expect(env.gateway.relay.inFlight).toBe(0);
  const answer = await callRaw(env.url, 'queryInstalled', '<ns:profile>after-hangups</ns:profile>', { username: env.username, password: env.password });
  expect(answer.returns).toEqual(['']);
});
