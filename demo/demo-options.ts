import { parseArgs } from 'node:util';

export interface DemoOptions {
  readonly stateDir: string;
  /** undefined: the system bus, as the real daemon uses by default. */
  readonly busAddress: string | undefined;
  readonly jobDelayMs: number;
  /** Like the real daemon's --log-dir; not created when absent (then every job fails at once). */
  readonly logDir: string | undefined;
}

export const USAGE = `Usage: disnix-service --state-dir DIR [--session-bus | --bus-address ADDR] [--log-dir DIR] [--job-delay-ms N]

A demo stand-in for disnix-service: publishes org.nixos.disnix.Disnix and runs its jobs on a
sandbox state directory instead of the Nix store.

  --state-dir DIR      directory holding the demo store, profiles, logs and snapshots (created if missing)
  --session-bus        use the session bus (DBUS_SESSION_BUS_ADDRESS) instead of the system bus
  --bus-address ADDR   use the bus at ADDR (e.g. unix:path=/tmp/bus)
  --log-dir DIR        job logs directory (default DIR/log of the state; not created when given)
  --job-delay-ms N     make every job take at least N more milliseconds (default 0)
  -h, --help           show this help`;

/** Parses the command line; throws an Error with a one-line message on bad usage. */
export function parseOptions(argv: readonly string[]): DemoOptions | 'help' {
  const { values, positionals } = parseArgs({
    args: [...argv],
    options: {
      'state-dir': { type: 'string' },
      'session-bus': { type: 'boolean' },
      'bus-address': { type: 'string' },
      'job-delay-ms': { type: 'string' },
      'log-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: true,
  });
  if (values.help) return 'help';
  if (positionals.length > 0) throw new Error(`unexpected argument '${positionals[0]}'`);
  const stateDir = values['state-dir'];
  if (!stateDir) throw new Error('--state-dir DIR is required');
  if (values['session-bus'] && values['bus-address'] !== undefined) {
    throw new Error('use either --session-bus or --bus-address, not both');
  }
  let busAddress = values['bus-address'];
  if (values['session-bus']) {
    busAddress = process.env.DBUS_SESSION_BUS_ADDRESS;
    if (!busAddress) throw new Error('--session-bus: DBUS_SESSION_BUS_ADDRESS is not set');
  }
  const jobDelayMs = Number(values['job-delay-ms'] ?? '0');
  if (!Number.isInteger(jobDelayMs) || jobDelayMs < 0) throw new Error('--job-delay-ms needs a whole number >= 0');
  return { stateDir, busAddress, jobDelayMs, logDir: values['log-dir'] };
}
