import { stopAtEnd } from '../demo/auto-teardown';
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
  /** Stops the gateway, the daemon and the bus. Idempotent; done anyway when the test file ends. */
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
  let closing: Promise<void> | undefined;
  const close = () => {
    forget();
    closing ??= (async () => {
      await gateway!.close();
      await daemon?.stop();
      await bus.stop();
    })();
    return closing;
  };
  // Under jest: closed when the test file ends, if the test did not close it.
  const forget = stopAtEnd(close);
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
    close,
  };
  return env;
}

export interface UseOptions {
  /** A new environment for each test (beforeEach/afterEach) instead of one for the describe block. */
  readonly each?: boolean;
  /** For starting it (default 60 s). */
  readonly timeoutMs?: number;
}

/**
 * Declares an environment for the enclosing describe block (or file): started in a beforeAll
 * (or beforeEach), closed in the matching afterAll (or afterEach), so no test can forget to
 * stop it. Call it where hooks may be declared (top level or in a describe), not in a test.
 * Returns a stand-in that reads from the running environment; options may be a function, for
 * options known only once earlier hooks ran (e.g. a directory they made).
 */
export function useGatewayEnvironment(options: EnvironmentOptions | (() => EnvironmentOptions) = {}, use: UseOptions = {}): GatewayEnvironment {
  let current: GatewayEnvironment | undefined;
  const start = async () => {
    current = await startGatewayEnvironment(typeof options === 'function' ? options() : options);
  };
  const stop = async () => {
    const env = current;
    current = undefined;
    await env?.close();
  };
  const timeout = use.timeoutMs ?? 60_000;
  if (use.each) {
    beforeEach(start, timeout);
    afterEach(stop, timeout);
  } else {
    beforeAll(start, timeout);
    afterAll(stop, timeout);
  }
  return new Proxy({} as GatewayEnvironment, {
    get(_target, property) {
      if (!current) throw new Error(`the gateway environment is not running here (read ${String(property)} outside its tests)`);
      const value: unknown = Reflect.get(current, property, current);
      return typeof value === 'function' ? value.bind(current) : value;
    },
  });
}
