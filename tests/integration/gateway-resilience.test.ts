import * as dbus from 'dbus-next';
import { DISNIX_INTERFACE, DISNIX_OBJECT_PATH } from '../../server/dbus/disnix-interface';
import { startGatewayEnvironment, useGatewayEnvironment } from '../../testing/gateway-fixture';
import { addDerivation, outputOf } from '../../testing/demo-store';
import { createSoapTestClient } from '../../testing/soap-test-client';

/** The daemon and the bus misbehave; every call still ends, and the gateway recovers by itself. */
describe('with the daemon and the bus failing', () => {
  const env = useGatewayEnvironment({}, { each: true });

  const client = () => createSoapTestClient(env.url, env.username, env.password);
  const jobStarted = () => new Promise<number>((resolve) => env.gateway.relay.once('started', ({ jobId }) => resolve(jobId)));

  test('a job in flight when disnix-service is killed ends in a Fault, and a restarted daemon serves the next call', async () => {
    const soap = await client();
    const slow = await addDerivation(env.daemon.stateDir, 'slow-build', { buildMs: 20_000 });
    const started = jobStarted();
    const call = soap.fault('realise', { derivation: [slow] });
    await started;
    await env.daemon.kill('SIGKILL');
    const t0 = Date.now();
    expect(await call).toMatch(/realise job \d+ was still running when disnix-service left the bus\. The job's log so far:\n[\s\S]*slow-build/);
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(env.gateway.relay.inFlight).toBe(0);

    expect(await soap.fault('lock', { profile: 'p' })).toMatch(/disnix-service is not running/);
    await env.restartDaemon();
    const quick = await addDerivation(env.daemon.stateDir, 'quick-build');
    expect(await soap.call('realise', { derivation: [quick] })).toEqual([outputOf(quick)]);
  });

  test('a dbus-daemon restart fails the jobs in flight; the next call reconnects without restarting the gateway', async () => {
    const soap = await client();
    const slow = await addDerivation(env.daemon.stateDir, 'slow-on-bus', { buildMs: 20_000 });
    const started = jobStarted();
    const call = soap.fault('realise', { derivation: [slow] });
    await started;
    await env.bus.restart();
    expect(await call).toMatch(/realise job \d+ was still running when (the D-Bus connection was lost|disnix-service left the bus)/);
    await env.daemon.exited; // the demo daemon ends with its bus, as the real one does
    await env.restartDaemon();
    expect(await soap.call('queryInstalled', { profile: 'after-restart' })).toEqual(['']);
    expect(env.gateway.bus.reconnects).toBeGreaterThanOrEqual(2);
  });

  test('signals from another bus client cannot end a job or change its result', async () => {
    const soap = await client();
    const drv = await addDerivation(env.daemon.stateDir, 'spoofed', { buildMs: 1_500 });
    const started = jobStarted();
    const call = soap.call('realise', { derivation: [drv] });
    const jobId = await started;
    const intruder = dbus.sessionBus({ busAddress: env.busAddress });
    intruder.on('error', () => undefined);
    try {
      await new Promise<void>((resolve) => intruder.once('connect', () => resolve()));
      intruder.send(dbus.Message.newSignal(DISNIX_OBJECT_PATH, DISNIX_INTERFACE, 'success', 'ias', [jobId, ['/forged/result']]));
      intruder.send(dbus.Message.newSignal(DISNIX_OBJECT_PATH, DISNIX_INTERFACE, 'failure', 'i', [jobId]));
      expect(await call).toEqual([outputOf(drv)]);
    } finally {
      intruder.disconnect();
    }
  });

  test("hundreds of concurrent calls each get their own job's result", async () => {
    const soap = await client();
    const drvs = await Promise.all(Array.from({ length: 300 }, (_, i) => addDerivation(env.daemon.stateDir, `concurrent-${i}`, { buildMs: (i * 37) % 400 })));
    const results = await Promise.all(drvs.map((drv) => soap.call('realise', { derivation: [drv] })));
    expect(results).toEqual(drvs.map((drv) => [outputOf(drv)]));
    expect(env.gateway.relay.inFlight).toBe(0);
  }, 60_000);
});

describe('with no daemon at start-up', () => {
  test('calls fail with a clear Fault until disnix-service appears, then work', async () => {
    const env = await startGatewayEnvironment({ withoutDaemon: true });
    try {
      const soap = await createSoapTestClient(env.url, env.username, env.password);
      expect(await soap.fault('lock', { profile: 'x' })).toMatch(/disnix-service is not running: nobody owns org\.nixos\.disnix\.Disnix/);
      await env.restartDaemon();
      expect(await soap.call('lock', { profile: 'x' })).toEqual([]);
    } finally {
      await env.close();
    }
  });
});
