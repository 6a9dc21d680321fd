import { startPrivateBus, type PrivateBus } from '../demo/private-bus';
import { parseCommandLine } from '../server/config/config';
import { startGateway, type Gateway } from '../server/gateway';
import type { Identity } from '../server/operations/daemon-temp-files';
import { type Logger, createLogger, silentLogger } from '../server/logging/logger';
import { type DemoDaemon, startDemoDaemon } from './demo-daemon';

export interface GatewayEnvironment {
  /** The full service URL, e.g. http://127.0.0.1:PORT/DisnixWebService/services/DisnixWebService */
  readonly url: string;
  readonly username: string;
  readonly password: string;
  readonly busAddress: string;
  readonly bus: PrivateBus;
  readonly daemon: DemoDaemon;
  readonly gateway: Gateway;
  /** Starts a new demo daemon on the same bus and state directory (after a kill or stop). */
  restartDaemon(): Promise<DemoDaemon>;
  close(): Promise<void>;
}

export interface EnvironmentOptions {
  /** Extra gateway flags, e.g. ['--job-timeout', 'export=1s']. */
  readonly gatewayArgs?: readonly string[];
  readonly daemonArgs?: readonly string[];
  /** The demo daemon's state directory (default: a new one), e.g. a fixed one that recorded requests name. */
  readonly daemonStateDir?: string;
  /** Start without a demo daemon on the bus. */
  readonly withoutDaemon?: boolean;
  /** Where the gateway listens instead of `--host 127.0.0.1 --port 0`, e.g. ['--listen-socket', PATH]. */
  readonly listenArgs?: readonly string[];
  /** Who the gateway counts as for the permissions of the daemon's TMPDIR (default: the test's user). */
  readonly identity?: Identity;
  /** Where the gateway logs (default: nowhere, or GATEWAY_TEST_LOG's level on stderr). */
  readonly logger?: Logger;
}

/**
 * A private dbus-daemon, the demo disnix-service on it (a child process, so it can be killed
 * mid-job) and the gateway in this process on a free loopback port. Set GATEWAY_TEST_LOG=debug
 * to see the gateway's log.
 */
export async function startGatewayEnvironment(options: EnvironmentOptions = {}): Promise<GatewayEnvironment> {
  const username = 'tester';
  const password = 'test-password-1';
  const bus = await startPrivateBus();
  let daemon: DemoDaemon | undefined;
  let gateway: Gateway | undefined;
  try {
    if (!options.withoutDaemon) daemon = await startDemoDaemon({ busAddress: bus.address, stateDir: options.daemonStateDir, extraArgs: options.daemonArgs });
    // The demo daemon's TMPDIR, so that the gateway removes what it leaves there, as in production.
    const tmpDirArgs = daemon ? ['--daemon-tmpdir', daemon.tmpDir] : [];
    const command = parseCommandLine(
      [...(options.listenArgs ?? ['--host', '127.0.0.1', '--port', '0']), '--bus-address', bus.address, ...tmpDirArgs, ...(options.gatewayArgs ?? [])],
      { DISNIX_WEBSERVICE_USERNAME: username, DISNIX_WEBSERVICE_PASSWORD: password },
    );
    if (command.kind !== 'run') throw new Error('unexpected command line');
    const level = process.env.GATEWAY_TEST_LOG;
    const logger = options.logger ?? (level ? createLogger({ level: level as 'debug' }) : silentLogger);
    gateway = await startGateway(command.config, logger, { identity: options.identity });
  } catch (error) {
    await daemon?.stop();
    await bus.stop();
    throw error;
  }
  const env: GatewayEnvironment = {
    url: gateway.url,
    username,
    password,
    busAddress: bus.address,
    bus,
    get daemon() {
      if (!daemon) throw new Error('this environment runs no demo daemon');
      return daemon;
    },
    gateway,
    async restartDaemon() {
      daemon = await startDemoDaemon({ busAddress: bus.address, stateDir: daemon?.stateDir, extraArgs: options.daemonArgs });
      return daemon;
    },
    async close() {
      await gateway!.close();
      await daemon?.stop();
      await bus.stop();
    },
  };
  return env;
}
