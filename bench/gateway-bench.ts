import { getOperation } from '../wsdl/operations';
import { type BenchContext, type BenchRow, ratioRow } from './bench-types';
import { type DirectDisnix, connectDirect } from './direct-dbus';
import { type LoadResult, percentile, runLoad } from './load';
import { type SoapCaller, createSoapCaller } from './soap-caller';

const CHEAP = { operation: 'queryInstalled', values: { profile: 'bench' } } as const;
const CHEAP_JOB = getOperation('queryInstalled').dbus!;
/** The cheap call through the gateway, and the same job made directly on D-Bus. */
const cheapViaGateway = (soap: SoapCaller) => () => soap.call(CHEAP.operation, CHEAP.values).then(() => undefined);
const cheapViaDbus = (direct: DirectDisnix) => () => direct.run(CHEAP_JOB.method, CHEAP_JOB.signature, [CHEAP.values.profile]).then(() => undefined);

/** How much each section does, full and --quick. */
const SIZES = {
  full: { warmCalls: 200, latencyCalls: 2000, latencyRounds: 10, throughputCalls: 20_000, throughputSeconds: 5, longJobs: 500, longJobMs: 2000 },
  quick: { warmCalls: 5, latencyCalls: 20, latencyRounds: 1, throughputCalls: 30, throughputSeconds: 0.3, longJobs: 20, longJobMs: 200 },
};

/** Gateway overhead, throughput and long-job concurrency, each against the same jobs made directly on D-Bus. */
export async function runGatewayBench(context: BenchContext): Promise<BenchRow[]> {
  const size = context.quick ? SIZES.quick : SIZES.full;
  const direct = await connectDirect(context.busAddress);
  try {
    return [...(await overhead(context, direct, size)), ...(await throughput(context, direct, size)), ...(await longJobs(context, direct, size))];
  } finally {
    direct.close();
  }
}

type Size = (typeof SIZES)['full'];

async function overhead(context: BenchContext, direct: DirectDisnix, size: Size): Promise<BenchRow[]> {
  context.log(`overhead: ${size.latencyCalls} sequential ${CHEAP.operation} calls each way`);
  const soap = createSoapCaller(context.url, context.username, context.password, 1);
  const viaGateway = cheapViaGateway(soap);
  const viaDbus = cheapViaDbus(direct);
  try {
    // Warm both paths (JIT, connections), then alternate rounds so that drift hits both alike.
    await runLoad({ concurrency: 1, count: size.warmCalls, until: context.deadline, call: viaGateway });
    await runLoad({ concurrency: 1, count: size.warmCalls, until: context.deadline, call: viaDbus });
    const gateway: number[] = [];
    const dbus: number[] = [];
    const perRound = Math.ceil(size.latencyCalls / size.latencyRounds);
    for (let round = 0; round < size.latencyRounds; round++) {
      gateway.push(...checked(await runLoad({ concurrency: 1, count: perRound, until: context.deadline, call: viaGateway }), 'gateway').latencies);
      dbus.push(...checked(await runLoad({ concurrency: 1, count: perRound, until: context.deadline, call: viaDbus }), 'direct D-Bus').latencies);
    }
    const p50 = [percentile(gateway, 0.5), percentile(dbus, 0.5)];
    const p99 = [percentile(gateway, 0.99), percentile(dbus, 0.99)];
    const baselineLabel = 'same job, direct D-Bus';
    return [
      ratioRow({ measure: `${CHEAP.operation} latency p50`, value: p50[0], unit: 'ms', baselineLabel, baseline: p50[1], target: 'overhead < 1 ms', met: p50[0] - p50[1] < 1, note: `overhead ${(p50[0] - p50[1]).toFixed(2)} ms, n=${gateway.length}` }),
      ratioRow({ measure: `${CHEAP.operation} latency p99`, value: p99[0], unit: 'ms', baselineLabel, baseline: p99[1], note: `overhead ${(p99[0] - p99[1]).toFixed(2)} ms` }),
    ];
  } finally {
    soap.close();
  }
}

async function throughput(context: BenchContext, direct: DirectDisnix, size: Size): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const callers of [1, 16, 64]) {
    context.log(`throughput: ${callers} concurrent callers, up to ${size.throughputSeconds} s each way`);
    const soap = createSoapCaller(context.url, context.username, context.password, callers);
    const budget = (): { count: number; until: number } => ({ count: size.throughputCalls, until: Math.min(context.deadline, Date.now() + size.throughputSeconds * 1000) });
    try {
      const gateway = await runLoad({ concurrency: callers, ...budget(), call: cheapViaGateway(soap) });
      const dbus = await runLoad({ concurrency: callers, ...budget(), call: cheapViaDbus(direct) });
      rows.push(
        ratioRow({
          measure: `${CHEAP.operation} throughput, ${callers} caller${callers === 1 ? '' : 's'}`,
          value: gateway.rate,
          unit: 'calls/s',
          baselineLabel: 'same load, direct D-Bus',
          baseline: dbus.rate,
          ...(callers === 64 ? { target: '>= 2000 calls/s, 0 errors', met: gateway.rate >= 2000 && gateway.errors === 0 } : {}),
          note: errorNote(gateway, dbus),
        }),
      );
    } finally {
      soap.close();
    }
  }
  return rows;
}

async function longJobs(context: BenchContext, direct: DirectDisnix, size: Size): Promise<BenchRow[]> {
  context.log(`long jobs: ${size.longJobs} activate calls at once, each job taking ${size.longJobMs} ms`);
  const values = { derivation: `${context.demoStoreDir}/${'0'.repeat(32)}-bench-echo`, container: 'echo', type: 'echo', arguments: [`delay=${size.longJobMs}`] };
  const job = getOperation('activate').dbus!;
  const soap = createSoapCaller(context.url, context.username, context.password, size.longJobs);
  const all = { concurrency: size.longJobs, count: size.longJobs, until: context.deadline };
  try {
    const gateway = await runLoad({ ...all, call: () => soap.call('activate', values).then(() => undefined) });
    const dbus = await runLoad({ ...all, call: () => direct.run(job.method, job.signature, [values.derivation, values.container, values.type, values.arguments]).then(() => undefined) });
    const limit = size.longJobMs * 1.5;
    return [
      ratioRow({
        measure: `${size.longJobs} concurrent ${size.longJobMs / 1000} s jobs, wall time`,
        value: gateway.wallMs,
        unit: 'ms',
        baselineLabel: 'same jobs, direct D-Bus',
        baseline: dbus.wallMs,
        target: `< ${limit / 1000} s, 0 errors`,
        met: gateway.wallMs < limit && gateway.errors === 0 && gateway.latencies.length === size.longJobs,
        note: errorNote(gateway, dbus),
      }),
    ];
  } finally {
    soap.close();
  }
}

function checked(result: LoadResult, what: string): LoadResult {
  if (result.errors > 0) throw new Error(`${what}: ${result.errors} calls failed, the first with: ${result.firstError}`);
  return result;
}

function errorNote(gateway: LoadResult, dbus: LoadResult): string {
  const errors = `errors ${gateway.errors}/${dbus.errors}`;
  return gateway.firstError ? `${errors} (${gateway.firstError.slice(0, 120)})` : errors;
}
