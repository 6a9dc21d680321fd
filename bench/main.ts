#!/usr/bin/env node
/**
 * `npm run bench`: starts a private dbus-daemon, the demo disnix-service and the gateway, then
 * measures the gateway against baselines taken in the same run, prints a Markdown table and
 * writes bench/results/bench.json. `--quick` makes a tiny run of every section but slowlink (seconds).
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startBenchSetup } from './bench-setup';
import type { BenchContext, BenchRow } from './bench-types';
import { runGatewayBench } from './gateway-bench';
import { runImportBench } from './import-bench';
import { formatTable, machineInfo, writeResults } from './report';
import { runSlowlinkBench } from './slowlink';
import { runStartupBench } from './startup-bench';
import { runTransferFigures } from './transfer-hook';

const PROJECT_ROOT = join(__dirname, '..', '..');
const SECTIONS = ['gateway', 'startup', 'transfer', 'import', 'slowlink'] as const;
const USAGE = `Usage: npm run bench [-- --quick] [-- --only SECTION]

  --quick         a tiny run of every section but slowlink (seconds; installs nothing); results go to bench/results/bench-quick.json
  --only SECTION  run one section (${SECTIONS.join(', ')}), for A/B runs while tuning; its results go to
                  bench/results/bench-SECTION.json, so the full run's file stays as it was
  -h, --help

Without --quick, openssh-server is installed from Debian when missing (as root) for the ssh baselines.
slowlink (root only) makes a network namespace whose loopback tc shapes to 100 Mbit/s, and measures
a closure of shared libraries up and down through the gateway there against scp and scp -C.
import: a 256 MiB closure of shared libraries through disnix-soap-client --import --localfile into the
demo disnix-service (upload streamed into the import) against the daemon's own import of the file.
BENCH_GATEWAY_ARGS adds gateway flags (e.g. "--log-level warn"), BENCH_GATEWAY_NODE_ARGS node flags
(e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the gateway under the load), BENCH_DAEMON_NODE_ARGS
the same for the demo disnix-service.`;

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { quick: { type: 'boolean' }, only: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const only = values.only;
  if (only !== undefined && !(SECTIONS as readonly string[]).includes(only)) {
    process.stderr.write(`bench: --only takes one of ${SECTIONS.join(', ')}, not "${only}"\n`);
    return 2;
  }
  const quick = values.quick === true;
  const startedAt = new Date();
  const log = (message: string) => process.stderr.write(`bench: ${message}\n`);
  // Everything is bounded: a section that runs out of time measures what it has.
  const deadline = Date.now() + (quick ? 60_000 : 15 * 60_000);

  // Exit through process.exit, so that every child's 'exit' hook stops it (sshd, gateway, daemon, bus).
  process.once('SIGINT', () => process.exit(130));
  process.once('SIGTERM', () => process.exit(143));
  log('starting a private dbus-daemon, the demo disnix-service and the gateway');
  const setup = await startBenchSetup(PROJECT_ROOT);
  const context: BenchContext = {
    url: setup.url,
    username: setup.username,
    password: setup.password,
    busAddress: setup.bus.address,
    demoStateDir: setup.daemon.stateDir,
    demoStoreDir: setup.daemon.storeDir,
    tmpDir: setup.tmpDir,
    quick,
    deadline,
    log,
  };
  const rows: BenchRow[] = [];
  const skipped: string[] = [];
  let failed = false;
  const sections = (
    [
      ['gateway', () => runGatewayBench(context)],
      ['startup', () => runStartupBench(context, PROJECT_ROOT)],
      ['transfer', async () => (await runTransferFigures(context)) ?? 'transfer: bench/transfer.ts is not there yet'],
      ['import', () => runImportBench(context, PROJECT_ROOT)],
      ['slowlink', () => runSlowlinkBench(context)],
    ] as [(typeof SECTIONS)[number], () => Promise<BenchRow[] | string>][]
  ).filter(([name]) => only === undefined || name === only);
  try {
    for (const [name, run] of sections) {
      try {
        const result = await run();
        // A string says why the section was not measured.
        if (typeof result === 'string') skipped.push(result);
        else rows.push(...result);
      } catch (error) {
        failed = true;
        skipped.push(`${name}: failed: ${(error as Error).message}`);
        log(`${name} failed: ${(error as Error).stack ?? error}`);
      }
    }
  } finally {
    await setup.stop();
  }

  const machine = machineInfo();
  process.stdout.write(formatTable(rows, machine));
  for (const line of skipped) process.stdout.write(`Not measured: ${line}\n`);
  const name = only !== undefined ? `bench-${only}${quick ? '-quick' : ''}.json` : quick ? 'bench-quick.json' : 'bench.json';
  const file = join(PROJECT_ROOT, 'bench', 'results', name);
  writeResults(file, { machine, quick, startedAt: startedAt.toISOString(), rows, skipped });
  log(`results written to ${file}`);
  return failed ? 1 : 0;
}

main().then(
  (status) => process.exit(status),
  (error: unknown) => {
    process.stderr.write(`bench: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exit(1);
  },
);
