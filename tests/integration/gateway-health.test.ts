import request from 'supertest';
import { useGatewayEnvironment } from '../../testing/gateway-fixture';

/** /healthz and /readyz: unauthenticated, terse, and readiness follows disnix-service on the bus. */
const env = useGatewayEnvironment();
let origin: string;

beforeAll(async () => {
  origin = new URL(env.url).origin;
});

/** Asks /readyz until it answers `status` (the bus tells of a daemon's exit a moment later). */
async function readinessBecomes(status: number): Promise<request.Response> {
  for (;;) {
    const response = await request(origin).get('/readyz');
    if (response.status === status) return response;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test('/healthz answers without credentials and says nothing but ok', async () => {
  const response = await request(origin).get('/healthz');
  expect(response.status).toBe(200);
  expect(response.headers['content-type']).toMatch(/^text\/plain/);
  expect(response.headers['cache-control']).toBe('no-store');
  expect(response.headers['x-powered-by']).toBeUndefined();
  expect(response.text).toBe('ok\n');
});

test('/readyz: ready while disnix-service is on the bus, 503 while it is gone, ready again once it is back', async () => {
  const ready = await request(origin).get('/readyz');
  expect(ready.status).toBe(200);
  expect(ready.text).toBe('ready\n');

  await env.daemon.stop();
  const absent = await readinessBecomes(503);
  expect(absent.text).toBe('not ready\n');
  expect(absent.headers['cache-control']).toBe('no-store');
  expect((await request(origin).get('/healthz')).status).toBe(200);

  await env.restartDaemon();
  expect((await readinessBecomes(200)).text).toBe('ready\n');
});

test('/readyz is 503 while the bus itself is down, and ready once bus and daemon are back', async () => {
  await env.bus.stop();
  await readinessBecomes(503);
  await env.daemon.exited; // the demo daemon ends with its bus, as the real one does
  await env.bus.restart();
  await env.restartDaemon();
  await readinessBecomes(200);
});

test('a HEAD probe works too', async () => {
  expect((await request(origin).head('/healthz')).status).toBe(200);
});
