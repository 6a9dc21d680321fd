import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { addDerivation, addStorePath, outputOf } from '../../testing/demo-store';
import { useGatewayEnvironment } from '../../testing/gateway-fixture';
import { holdJobSignals } from '../../testing/job-signal-hold';
import { type RawAnswer, callRaw, items } from '../../testing/raw-soap';

/**
 * 3,000 calls of mixed operations against the demo disnix-service through the gateway and a real
 * D-Bus: no errors, each result its own job's, no pending entry left, memory back to its level.
 *
 * Bounded by count, not by pace: the first call of every task (2,400) is held in flight until all
 * of them are (the gateway's job signals are held back meanwhile, see job-signal-hold), so that
 * they were all in flight at once however slow or busy the machine is; then all are answered at
 * once and the second calls of the lock/unlock and set/queryInstalled pairs follow.
 */
const REALISE = 1_200;
const PROFILES = 300; // each: lock + unlock, and set + queryInstalled (1,200 calls)
const ACTIVATIONS = 600;
const TOTAL = REALISE + 4 * PROFILES + ACTIVATIONS;
const FIRST_WAVE = REALISE + 2 * PROFILES + ACTIVATIONS;

const env = useGatewayEnvironment();
// Set once the test is over (passed, failed or timed out): calls not yet sent are not sent.
let over = false;
afterEach(() => {
  over = true;
});

async function settledHeap(gc: () => void): Promise<number> {
  let lowest = Infinity;
  for (let i = 0; i < 5; i += 1) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 100));
    lowest = Math.min(lowest, process.memoryUsage().heapUsed);
  }
  return lowest;
}

/** Waits for a condition, polling; no deadline of its own (the test's timeout is the bound). */
async function until(condition: () => boolean): Promise<void> {
  while (!over && !condition()) await new Promise((resolve) => setTimeout(resolve, 20));
}

test(`${TOTAL} calls of mixed operations, ${FIRST_WAVE} of them in flight at once: zero errors, every result its own`, async () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const stateDir = env.daemon.stateDir;
  // Mixed durations, short: holding the signals, not the jobs' length, keeps the calls in flight.
  const drvs = await Promise.all(Array.from({ length: REALISE }, (_, i) => addDerivation(stateDir, `load-${i}`, { buildMs: (i * 37) % 400 })));
  const contents = await Promise.all(Array.from({ length: PROFILES }, (_, i) => addStorePath(stateDir, `load-profile-content-${i}`, `content ${i}\n`)));
  const services = Array.from({ length: ACTIVATIONS }, (_, i) => `${env.daemon.storeDir}/${String(i).padStart(32, 'a')}-load-service-${i}`);

  // Each call on its own connection, opened once the gateway has accepted all but a few
  // hundred of those before: thousands of connects at one instant overflow the kernel's
  // accept queue (Node's default backlog is 511) and the excess is reset, a client artefact.
  let opened = 0;
  let accepted = 0;
  const onConnection = () => (accepted += 1);
  env.gateway.server.on('connection', onConnection);
  const auth = { username: env.username, password: env.password };
  const call = async (operation: string, inner: string): Promise<RawAnswer> => {
    while (opened - accepted >= 200) {
      if (over) throw new Error(`${operation}: not sent, the test is over`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    opened += 1;
    return callRaw(env.url, operation, inner, auth).catch((error: Error) => {
      throw new Error(`${operation}: ${error.message}`);
    });
  };
  const ok = (answer: RawAnswer, what: string): RawAnswer => {
    if (answer.status !== 200) throw new Error(`${what}: HTTP ${answer.status} ${answer.faultstring ?? ''}`);
    return answer;
  };

  // Warm up (connections, the daemon's log directory), then take the baseline.
  await Promise.all(Array.from({ length: 50 }, (_, i) => call('queryInstalled', `<ns:profile>warm-${i}</ns:profile>`)));
  const baseline = await settledHeap(gc);
  const t0 = Date.now();

  // The first call of each task; none can be answered before the hold is released.
  let firstAnswered = 0;
  const first = async (operation: string, inner: string): Promise<RawAnswer> => {
    try {
      return await call(operation, inner);
    } finally {
      firstAnswered += 1;
    }
  };
  const mismatches: string[] = [];
  const tasks: (() => Promise<void>)[] = [
    ...drvs.map((drv) => async () => {
      const { returns } = ok(await first('realise', items('derivation', [drv])), `realise ${drv}`);
      if (returns.length !== 1 || returns[0] !== outputOf(drv)) mismatches.push(`realise ${drv} -> ${returns.join(',')}`);
    }),
    ...contents.map((_path, i) => async () => {
      ok(await first('lock', `<ns:profile>load-lock-${i}</ns:profile>`), `lock ${i}`);
      ok(await call('unlock', `<ns:profile>load-lock-${i}</ns:profile>`), `unlock ${i}`);
    }),
    ...contents.map((path, i) => async () => {
      ok(await first('set', `<ns:profile>load-set-${i}</ns:profile><ns:derivation>${path}</ns:derivation>`), `set ${i}`);
      const { returns } = ok(await call('queryInstalled', `<ns:profile>load-set-${i}</ns:profile>`), `queryInstalled ${i}`);
      if (returns.length !== 1 || returns[0] !== path) mismatches.push(`queryInstalled load-set-${i} -> ${returns.join(',')}`);
    }),
    ...services.map((service, i) => async () => {
      const args = `<ns:arguments>delay=${(i * 53) % 400}</ns:arguments><ns:arguments>n=${i}</ns:arguments>`;
      ok(await first('activate', `<ns:derivation>${service}</ns:derivation><ns:container>echo</ns:container><ns:type>echo</ns:type>${args}`), `activate ${i}`);
    }),
  ];
  // Mixed in a fixed order.
  const order = tasks.map((task, i) => ({ task, key: (i * 7919) % tasks.length }));
  order.sort((a, b) => a.key - b.key);

  const hold = holdJobSignals(env.gateway.bus);
  let outcomes: PromiseSettledResult<void>[];
  let inFlightTogether: number;
  let answeredWhileHeld: number;
  try {
    const all = Promise.allSettled(order.map(({ task }) => task()));
    // Every first call in flight at once; or one was answered without its job (an error,
    // reported below) and the rest can wait no longer.
    // Progress, should a slow machine make one wonder whether it is stuck.
    const progress = setInterval(
      () => process.stderr.write(`load: ${env.gateway.relay.inFlight} of ${FIRST_WAVE} calls in flight, ${hold.held} signals held\n`),
      15_000,
    );
    await until(() => env.gateway.relay.inFlight === FIRST_WAVE || firstAnswered > 0).finally(() => clearInterval(progress));
    inFlightTogether = env.gateway.relay.inFlight;
    answeredWhileHeld = firstAnswered;
    hold.release();
    outcomes = await all;
  } finally {
    hold.release();
    env.gateway.server.off('connection', onConnection);
  }
  const seconds = (Date.now() - t0) / 1000;

  const errors = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected').map((o) => String(o.reason?.message ?? o.reason));
  expect(errors.slice(0, 5)).toEqual([]);
  expect(mismatches.slice(0, 5)).toEqual([]);
  // Truly concurrent: every first call was in flight at the same moment, none answered early.
  expect(answeredWhileHeld).toBe(0);
  expect(inFlightTogether).toBe(FIRST_WAVE);
  expect(env.gateway.relay.inFlight).toBe(0);

  const after = await settledHeap(gc);
  process.stdout.write(
    `load: ${TOTAL} calls in ${seconds.toFixed(1)} s, ${inFlightTogether} jobs in flight at once, heap ${mb(baseline)} -> ${mb(after)} MB\n`,
  );
  // Generous: what matters is that nothing per call is kept.
  expect(after - baseline).toBeLessThan(40 * 1024 * 1024);
}, 300_000);

function mb(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(1);
}
