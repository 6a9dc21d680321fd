import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DemoDaemon, startDemoDaemon } from '../demo/demo-daemon-process';
import { type PrivateBus, startPrivateBus } from '../demo/private-bus';
import { DEFAULT_SERVICE_PATH } from '../protocol/operations';
import { freeLoopbackPort } from './free-port';

/** Everything the benchmark runs against: a private bus, the demo disnix-service, the gateway. */
export interface BenchSetup {
  readonly url: string;
  readonly username: string;
  readonly password: string;
  readonly bus: PrivateBus;
  readonly daemon: DemoDaemon;
  readonly tmpDir: string;
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 15_000;

/**
 * The gateway runs as its own process, as in production, so that the load generator and the
 * direct D-Bus baseline in this process do not share its event loop. It logs at the production
 * default (info, JSON) into a file: logging is part of its cost.
 */
export async function startBenchSetup(projectRoot: string): Promise<BenchSetup> {
  const tmpDir = mkdtempSync(join(tmpdir(), 'disnix-bench-'));
  const username = 'bench';
  const password = `bench-${process.pid}-${Date.now()}`;
  const bus = await startPrivateBus({ dir: join(tmpDir, 'bus') });
  let daemon: DemoDaemon | undefined;
  let gateway: ChildProcess | undefined;
  const logDir = jobLogDir();
  const removeDirs = () => {
    rmSync(tmpDir, { recursive: true, force: true });
    if (logDir !== undefined) rmSync(logDir, { recursive: true, force: true });
  };
  const cleanUpOnExit = () => {
    gateway?.kill('SIGKILL');
    removeDirs();
  };
  const stop = async () => {
    process.off('exit', cleanUpOnExit);
    if (gateway && gateway.exitCode === null && gateway.signalCode === null) {
      const exited = new Promise((resolve) => gateway!.once('exit', resolve));
      gateway.kill('SIGTERM');
      await exited;
    }
    await daemon?.stop();
    await bus.stop();
    removeDirs();
  };
  try {
    // For profiling and A/B runs (see --help): node flags such as --cpu-prof, gateway flags such as --log-level.
    const words = (text = '') => text.split(' ').filter((word) => word !== '');
    daemon = await startDemoDaemon({
      busAddress: bus.address,
      stateDir: join(tmpDir, 'demo-state'),
      extraArgs: logDir === undefined ? [] : ['--log-dir', logDir],
      nodeArgs: words(process.env.BENCH_DAEMON_NODE_ARGS),
    });
    const port = await freeLoopbackPort();
    const logFile = join(tmpDir, 'gateway.log');
    const log = openSync(logFile, 'w');
    // A benchmark that dies or is interrupted must leave nothing behind (the bus and daemon modules see to theirs).
    process.once('exit', cleanUpOnExit);
    const gatewayArgs = [
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--bus-address',
      bus.address,
      '--log-format',
      'json',
      '--daemon-tmpdir',
      daemon.tmpDir,
      ...words(process.env.BENCH_GATEWAY_ARGS),
    ];
    gateway = spawn(process.execPath, [...words(process.env.BENCH_GATEWAY_NODE_ARGS), join(projectRoot, 'dist', 'server', 'main.js'), ...gatewayArgs], {
      stdio: ['ignore', 'ignore', log],
      // The caller's own DISNIX_WEBSERVICE_* settings would change what is measured.
      env: { ...withoutGatewaySettings(process.env), DISNIX_WEBSERVICE_USERNAME: username, DISNIX_WEBSERVICE_PASSWORD: password },
    });
    closeSync(log); // the child has its own copy
    await untilReady(`http://127.0.0.1:${port}/readyz`, gateway, logFile);
    return { url: `http://127.0.0.1:${port}${DEFAULT_SERVICE_PATH}`, username, password, bus, daemon, tmpDir, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * Where the demo daemon writes its job logs, one file per job as disnix-service does. Creating
 * tens of thousands of files on this machine's disk cost kernel CPU that swung between 0.04 and
 * 0.9 ms per file from one minute to the next; on 2 shared cores that is taken from the gateway
 * and the baseline alike, and it measures the disk, not the gateway. So the logs go to tmpfs
 * (/dev/shm) when there is one; the store stays on disk (the transfer section puts GiBs there).
 */
function jobLogDir(): string | undefined {
  try {
    return mkdtempSync(join('/dev/shm', 'disnix-bench-log-'));
  } catch {
    return undefined;
  }
}

/** Asks /readyz until the gateway answers 200 (it listens and sees disnix-service on the bus). */
async function untilReady(url: string, gateway: ChildProcess, logFile: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (gateway.exitCode !== null) throw new Error(`the gateway exited (${gateway.exitCode}): ${readFileSync(logFile, 'utf8').trim()}`);
    const status = await new Promise<number>((resolve) => get(url, (res) => resolve(res.resume().statusCode ?? 0)).on('error', () => resolve(0)));
    if (status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`the gateway was not ready within ${READY_TIMEOUT_MS / 1000} s: ${readFileSync(logFile, 'utf8').trim()}`);
}

function withoutGatewaySettings(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !name.startsWith('DISNIX_WEBSERVICE_')));
}
