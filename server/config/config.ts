import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import { DEFAULT_SERVICE_PATH } from '../../wsdl/operations';
import { type JobTimeouts, resolveJobTimeouts } from './job-timeouts';
import { type OptionKey, type OptionSpec, optionSpecs } from './options';

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

export type AuthConfig =
  | { readonly mode: 'none' }
  | { readonly mode: 'users'; readonly users: Readonly<Record<string, string>> };

export interface BusConfig {
  readonly kind: 'system' | 'session' | 'address';
  readonly address: string;
}

/** The gateway's settings, checked once at start-up and frozen. */
export interface GatewayConfig {
  readonly port: number;
  readonly host: string;
  readonly servicePath: string;
  readonly auth: AuthConfig;
  readonly bus: BusConfig;
  readonly jobTimeouts: JobTimeouts;
  readonly maxBodyBytes: number;
  readonly logLevel: LogLevel;
}

export type ParsedCommandLine =
  | { readonly kind: 'run'; readonly config: GatewayConfig }
  | { readonly kind: 'help' }
  | { readonly kind: 'version' };

/** Every problem found in the settings, reported together so one start-up shows them all. */
export class ConfigError extends Error {
  readonly code = 'GW_ERR_CONFIG';
  constructor(readonly problems: readonly string[]) {
    super(problems.join('; '));
    this.name = 'ConfigError';
  }
}

const SYSTEM_BUS_ADDRESS = 'unix:path=/var/run/dbus/system_bus_socket';
const LOG_LEVELS: readonly LogLevel[] = ['error', 'warn', 'info', 'debug'];
const SIZE_UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

type RawValues = Partial<Record<OptionKey, string | boolean | string[]>>;

/** Flags win over environment variables, which win over defaults. */
export function parseCommandLine(argv: readonly string[], env: NodeJS.ProcessEnv): ParsedCommandLine {
  const raw = readFlags(argv);
  if (raw.help) return { kind: 'help' };
  if (raw.version) return { kind: 'version' };
  for (const [key, spec] of Object.entries(optionSpecs) as [OptionKey, OptionSpec][]) {
    const fromEnv = spec.env === undefined ? undefined : env[spec.env];
    if (raw[key] !== undefined || fromEnv === undefined || fromEnv === '') continue;
    raw[key] = spec.type === 'boolean' ? /^(1|true|yes|on)$/i.test(fromEnv) : spec.multiple ? [fromEnv] : fromEnv;
  }
  return { kind: 'run', config: buildConfig(raw, env) };
}

function readFlags(argv: readonly string[]): RawValues {
  const options = Object.fromEntries(
    (Object.values(optionSpecs) as OptionSpec[])
      .filter((spec) => spec.flag !== '')
      .map((spec) => [spec.flag, { type: spec.type, multiple: spec.multiple ?? false }]),
  );
  try {
    const { values } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false });
    const byFlag = new Map((Object.entries(optionSpecs) as [OptionKey, OptionSpec][]).map(([k, s]) => [s.flag, k]));
    return Object.fromEntries(Object.entries(values).map(([flag, v]) => [byFlag.get(flag), v])) as RawValues;
  } catch (error) {
    throw new ConfigError([`${(error as Error).message} (see --help)`]);
  }
}

function buildConfig(raw: RawValues, env: NodeJS.ProcessEnv): GatewayConfig {
  const problems: string[] = [];
  const text = (key: OptionKey): string | undefined => raw[key] as string | undefined;

  const port = Number(text('port') ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) problems.push(`port "${text('port')}" is not a TCP port number (0-65535)`);

  const host = text('host') ?? '0.0.0.0';
  if (host === '' || /\s/.test(host)) problems.push(`host "${host}" is not an address`);

  const servicePath = text('path') ?? DEFAULT_SERVICE_PATH;
  if (!/^\/[A-Za-z0-9._~\-/]*[A-Za-z0-9._~-]$/.test(servicePath)) {
    problems.push(`path "${servicePath}" must start with / and hold only letters, digits and . _ ~ - /`);
  }

  const auth = buildAuth(raw, host, problems);
  const bus = buildBus(raw, env, problems);
  const jobTimeouts = resolveJobTimeouts((raw.jobTimeout as string[] | undefined) ?? [], problems);

  const maxBodyBytes = parseSize(text('maxBodySize') ?? '16m');
  if (maxBodyBytes === undefined) problems.push(`max-body-size "${text('maxBodySize')}" is not a size such as 512k or 16m`);

  const logLevel = (text('logLevel') ?? 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`log-level "${logLevel}" is not one of ${LOG_LEVELS.join(', ')}`);

  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze({ port, host, servicePath, auth, bus, jobTimeouts, maxBodyBytes: maxBodyBytes!, logLevel });
}

function buildAuth(raw: RawValues, host: string, problems: string[]): AuthConfig {
  if (raw.noAuth === true) {
    if (!isLoopback(host) && raw.allowRemoteNoAuth !== true) {
      problems.push(`--no-auth on ${host} would let anyone on the network deploy: listen on 127.0.0.1 (e.g. behind an authenticating proxy) or add --allow-remote-no-auth`);
    }
    return Object.freeze({ mode: 'none' });
  }
  const username = raw.username as string | undefined;
  let password = raw.password as string | undefined;
  const passwordFile = raw.passwordFile as string | undefined;
  if (passwordFile !== undefined) {
    try {
      password = readFileSync(passwordFile, 'utf8').split(/\r?\n/, 1)[0];
    } catch (error) {
      problems.push(`password file ${passwordFile} cannot be read: ${(error as NodeJS.ErrnoException).code ?? error}`);
      return { mode: 'none' };
    }
  }
  if (username === undefined || username === '' || password === undefined || password === '') {
    problems.push('no credentials: set DISNIX_WEBSERVICE_USERNAME and DISNIX_WEBSERVICE_PASSWORD (or --password-file), or run with --no-auth behind an authenticating proxy');
    return { mode: 'none' };
  }
  if (username.includes(':')) problems.push('the user name must not contain ":" (HTTP basic auth cannot carry it)');
  return Object.freeze({ mode: 'users', users: Object.freeze({ [username]: password }) });
}

function buildBus(raw: RawValues, env: NodeJS.ProcessEnv, problems: string[]): BusConfig {
  const address = raw.busAddress as string | undefined;
  if (address !== undefined && raw.sessionBus === true) problems.push('--bus-address and --session-bus exclude each other');
  if (address !== undefined) {
    if (!/^[a-z]+:/.test(address)) problems.push(`bus address "${address}" is not a D-Bus address such as unix:path=/run/bus`);
    return { kind: 'address', address };
  }
  if (raw.sessionBus === true) {
    const session = env.DBUS_SESSION_BUS_ADDRESS;
    if (!session) problems.push('--session-bus: DBUS_SESSION_BUS_ADDRESS is not set');
    return { kind: 'session', address: session ?? '' };
  }
  return { kind: 'system', address: env.DBUS_SYSTEM_BUS_ADDRESS || SYSTEM_BUS_ADDRESS };
}

function parseSize(text: string): number | undefined {
  const match = /^(\d+)\s*([kmg]?)(?:i?b)?$/i.exec(text.trim());
  return match ? Number(match[1]) * SIZE_UNITS[match[2].toLowerCase()] : undefined;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
}
