import { request as httpRequest } from 'node:http';
import { startPrivateBus } from '../../demo/private-bus';
import { type DemoDaemon, startDemoDaemon } from '../../testing/demo-daemon';
import { addDerivation, addUnexportableStorePath, outputOf } from '../../testing/demo-store';
import { useGatewayEnvironment } from '../../testing/gateway-fixture';
import { CREDENTIALS, startGatewayProcess } from '../../testing/gateway-process';
import { callRaw, items, postRaw } from '../../testing/raw-soap';
import { basicAuthHeader, envelope } from '../../testing/soap-test-client';

/**
 * What the resilience tests leave out: jobs that never signal, a daemon restarted mid-job,
 * job ids that repeat across daemon runs, and the compiled gateway staying up through all
 * of it (a crash in this process would end the test run, so a child process shows it).
 */
const EXPORT_LIMIT_MS = 1_500;

describe('in process', () => {
  const env = useGatewayEnvironment({ gatewayArgs: ['--job-timeout', `export=${EXPORT_LIMIT_MS}ms`] }, { each: true });
  const extraDaemons: DemoDaemon[] = [];
  afterEach(async () => {
    for (const daemon of extraDaemons.splice(0)) await daemon.stop();
  });

  const call = (operation: string, inner: string) => callRaw(env.url, operation, inner, { username: env.username, password: env.password });
  const realise = (drv: string) => call('realise', items('derivation', [drv]));
  const startedJobs = (count: number) =>
    new Promise<number[]>((resolve) => {
      const ids: number[] = [];
      const onStarted = ({ jobId }: { jobId: number }) => {
        ids.push(jobId);
        if (ids.length === count) {
          env.gateway.relay.off('started', onStarted);
          resolve(ids);
        }
      };
      env.gateway.relay.on('started', onStarted);
    });

  test('jobs that never signal (failing exports) end in a Fault within their limit while other calls go on', async () => {
    // Valid paths, so that the export job itself runs and fails (a missing path is refused before).
    const unexportable = await Promise.all(Array.from({ length: 5 }, (_, i) => addUnexportableStorePath(env.daemon.stateDir, `unexportable-${i}`)));
    const t0 = Date.now();
    const silent = Promise.all(unexportable.map((path) => call('export', items('derivation', [path]))));
    const drv = await addDerivation(env.daemon.stateDir, 'beside-silent', { buildMs: 200 });
    expect((await realise(drv)).returns).toEqual([outputOf(drv)]);
    for (const answer of await silent) {
      expect(answer.status).toBe(500);
      expect(answer.faultstring).toMatch(/export job \d+ got no answer from disnix-service within 1500ms \(disnix-service sends no signal when export fails\)/);
    }
    // Bounded: the limit, plus generous room for reading logs on a loaded machine.
    expect(Date.now() - t0).toBeLessThan(EXPORT_LIMIT_MS + 8_000);
    expect(env.gateway.relay.inFlight).toBe(0);
  });

  test('a daemon stopped and started again mid-job: the call ends in a Fault, the next one is served', async () => {
    const slow = await addDerivation(env.daemon.stateDir, 'restarted-mid-build', { buildMs: 20_000 });
    const started = startedJobs(1);
    const pending = realise(slow);
    await started;
    await env.daemon.stop();
    await env.restartDaemon();
    const answer = await pending;
    expect(answer.status).toBe(500);
    expect(answer.faultstring).toMatch(/realise job \d+ was still running when disnix-service left the bus/);
    const quick = await addDerivation(env.daemon.stateDir, 'after-restart');
    expect((await realise(quick)).returns).toEqual([outputOf(quick)]);
    expect(env.gateway.relay.inFlight).toBe(0);
  });

  test('job ids repeated by a new daemon (fresh state) or continued (same state): each call gets its own result', async () => {
    const first = env.daemon;
    const slow = await Promise.all(Array.from({ length: 6 }, (_, i) => addDerivation(first.stateDir, `old-${i}`, { buildMs: 20_000 })));
    const oldIdsStarted = startedJobs(6);
    const oldCalls = Promise.all(slow.map(realise));
    const oldIds = await oldIdsStarted;
    await first.kill('SIGKILL');
    for (const answer of await oldCalls) expect(answer.faultstring).toMatch(/was still running when disnix-service left the bus/);

    // A daemon on a fresh state directory counts from 1 again: the same ids as the lost jobs.
    const fresh = await startDemoDaemon({ busAddress: env.busAddress });
    extraDaemons.push(fresh);
    const drvs = await Promise.all(Array.from({ length: 6 }, (_, i) => addDerivation(fresh.stateDir, `new-${i}`, { buildMs: (i * 97) % 300 })));
    const newIdsStarted = startedJobs(6);
    const answers = await Promise.all(drvs.map(realise));
    expect(answers.map((a) => a.returns)).toEqual(drvs.map((drv) => [outputOf(drv)]));
    expect((await newIdsStarted).filter((id) => oldIds.includes(id)).length).toBeGreaterThan(0);
    await fresh.stop();

    // The first state again: ids continue after the highest logged one.
    const again = await env.restartDaemon();
    const more = await Promise.all(Array.from({ length: 6 }, (_, i) => addDerivation(again.stateDir, `again-${i}`, { buildMs: (i * 53) % 200 })));
    const moreIdsStarted = startedJobs(6);
    expect((await Promise.all(more.map(realise))).map((a) => a.returns)).toEqual(more.map((drv) => [outputOf(drv)]));
    expect(Math.min(...(await moreIdsStarted))).toBeGreaterThan(Math.max(...oldIds));
    expect(env.gateway.relay.inFlight).toBe(0);
  }, 60_000);
});

describe('the compiled gateway as its own process', () => {
  test('stays up through daemon kills, bus restarts, an absent daemon, silent jobs and vanishing callers', async () => {
    const bus = await startPrivateBus();
    let daemon: DemoDaemon | undefined;
    const gateway = await startGatewayProcess(bus.address, ['--job-timeout', 'export=1s', '--log-level', 'debug']);
    const auth = { username: CREDENTIALS.username, password: CREDENTIALS.password };
    const call = (operation: string, inner: string) => callRaw(gateway.url, operation, inner, auth);
    try {
      // No daemon yet.
      expect((await call('lock', '<ns:profile>p</ns:profile>')).faultstring).toMatch(/disnix-service is not running/);
      daemon = await startDemoDaemon({ busAddress: bus.address });

      // The daemon killed mid-job.
      const slow = await addDerivation(daemon.stateDir, 'killed', { buildMs: 20_000 });
      const killed = call('realise', items('derivation', [slow]));
      await new Promise((resolve) => setTimeout(resolve, 500));
      await daemon.kill('SIGKILL');
      expect((await killed).faultstring).toMatch(/left the bus|not running/);
      daemon = await startDemoDaemon({ busAddress: bus.address, stateDir: daemon.stateDir });

      // dbus-daemon restarted mid-job (the demo daemon ends with its bus, as the real one does).
      const slow2 = await addDerivation(daemon.stateDir, 'bus-restart', { buildMs: 20_000 });
      const onBus = call('realise', items('derivation', [slow2]));
      await new Promise((resolve) => setTimeout(resolve, 500));
      await bus.restart();
      expect((await onBus).status).toBe(500);
      await daemon.exited;
      daemon = await startDemoDaemon({ busAddress: bus.address, stateDir: daemon.stateDir });

      // A job that never signals, and callers that hang up mid-call or mid-request.
      const silent = call('export', items('derivation', [await addUnexportableStorePath(daemon.stateDir, 'unexportable')]));
      await hangUpMidCall(
        gateway.url,
        envelope(
          'activate',
          `<ns:derivation>${daemon.storeDir}/11111111111111111111111111111111-svc</ns:derivation><ns:container>echo</ns:container><ns:type>echo</ns:type><ns:arguments>delay=5000</ns:arguments>`,
        ),
      );
      await hangUpMidBody(gateway.url);
      await postRaw(gateway.url, '\u0000\u0001 garbage', auth);
      expect((await silent).faultstring).toMatch(/got no answer from disnix-service within 1s/);

      const drv = await addDerivation(daemon.stateDir, 'survivor');
      expect((await call('realise', items('derivation', [drv]))).returns).toEqual([outputOf(drv)]);
      expect(gateway.alive()).toBe(true);
      expect(gateway.log()).not.toMatch(/uncaught|unhandled|"level":"error"/i);
    } finally {
      await gateway.stop('SIGKILL');
      await daemon?.stop();
      await bus.stop();
    }
  }, 60_000);
});

/** Sends a whole call, then closes the connection before the answer. */
async function hangUpMidCall(url: string, body: string): Promise<void> {
  const req = httpRequest(url, {
    method: 'POST',
    agent: false,
    headers: { 'Content-Type': 'text/xml', Authorization: basicAuthHeader(CREDENTIALS.username, CREDENTIALS.password) },
  });
  req.on('error', () => undefined);
  req.end(body);
  await new Promise((resolve) => setTimeout(resolve, 300));
  req.destroy();
}

/** Announces a body, sends half of it, and goes away. */
async function hangUpMidBody(url: string): Promise<void> {
  const req = httpRequest(url, {
    method: 'POST',
    agent: false,
    headers: { 'Content-Type': 'text/xml', 'Content-Length': '100000', Authorization: basicAuthHeader(CREDENTIALS.username, CREDENTIALS.password) },
  });
  req.on('error', () => undefined);
  req.write('<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'.padEnd(50_000, ' '));
  await new Promise((resolve) => setTimeout(resolve, 200));
  req.destroy();
}
