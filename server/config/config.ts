import { readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import { DEFAULT_SERVICE_PATH } from '../../protocol/operations';
import { type AuthFailureLimit, parseAuthFailureLimit } from './auth-failure-limit';
import { parseDuration } from '../../protocol/durations';
import { checkHtpasswdFile } from './htpasswd';
import { type JobTimeouts, resolveJobTimeouts } from './job-timeouts';
import { type ListenSettings, buildListenSettings } from './listen-settings';
import { type OptionKey, type OptionSpec, optionSpecs } from './options';
import { type TrustProxy, parseTrustProxy } from './trusted-proxies';

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';
/** 'auto': text on a terminal, json otherwise (decided where the logger is made). */
export type LogFormat = 'json' | 'text' | 'auto';

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

export type AuthConfig =
  | { readonly mode: 'none' }
  | {
      readonly mode: 'users';
      /** The single user of the environment (or none, with an htpasswd file). */
      readonly users: Readonly<Record<string, string>>;
      /** Read again on every change; the single user above wins for its own name. */
      readonly htpasswdFile?: string;
    };

export interface BusConfig {
  readonly kind: 'system' | 'session' | 'address';
  readonly address: string;
}

/** The gateway's settings, checked once at start-up and frozen; socket, TLS and trusted proxies in ListenSettings. */
export interface GatewayConfig extends ListenSettings {
  readonly port: number;
  readonly host: string;
  readonly servicePath: string;
  readonly auth: AuthConfig;
  readonly bus: BusConfig;
  readonly jobTimeouts: JobTimeouts;
  readonly maxBodyBytes: number;
  /** Where uploaded files wait until disnix-service has imported them. */
  readonly uploadDir: string;
  /** How long a request's body may send nothing while it is read (`--upload-stall-timeout`). */
  readonly uploadStallMs: number;
  /** disnix-service's TMPDIR: what its export and capture_config jobs leave there is removed. */
  readonly daemonTmpDir: string;
  /** How many calls the jobs page keeps. */
  readonly jobHistory: number;
  readonly logLevel: LogLevel;
  readonly logFormat: LogFormat;
  readonly authFailureLimit: AuthFailureLimit;
  /** How long calls in flight may go on after SIGTERM before they end in a Fault. */
  readonly shutdownGraceMs: number;
  /** Client addresses let in without credentials (`--no-auth-from`). */
  readonly noAuthFrom?: TrustProxy;
  /** A separate, unauthenticated listener for /metrics; absent: /metrics sits behind the service's auth. */
  readonly metricsListen?: ListenAddress;
}

export type ParsedCommandLine = { readonly kind: 'run'; readonly config: GatewayConfig } | { readonly kind: 'help' } | { readonly kind: 'version' };

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
const LOG_FORMATS: readonly LogFormat[] = ['json', 'text', 'auto'];
const SIZE_UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

type RawValues = Partial<Record<OptionKey, string | boolean | string[]>>;

/** The values a boolean variable may take, in either case. */
const BOOLEAN_WORDS: Readonly<Record<string, boolean>> = { true: true, false: false, '1': true, '0': false, yes: true, no: false, on: true, off: false };

/** Flags win over environment variables, which win over defaults. */
export function parseCommandLine(argv: readonly string[], env: NodeJS.ProcessEnv): ParsedCommandLine {
  const raw = readFlags(argv);
  if (raw.help) return { kind: 'help' };
  if (raw.version) return { kind: 'version' };
  const problems: string[] = [];
  for (const [key, spec] of Object.entries(optionSpecs) as [OptionKey, OptionSpec][]) {
    if (raw[key] !== undefined) continue;
    const fromEnv = readVariable(spec, env, problems);
    if (fromEnv === undefined) continue;
    if (spec.type !== 'boolean') {
      raw[key] = spec.multiple ? [fromEnv.value] : fromEnv.value;
      continue;
    }
    // A typo such as DISNIX_WEBSERVICE_NO_AUTH=ture must not quietly mean "no".
    const flag = BOOLEAN_WORDS[fromEnv.value.trim().toLowerCase()];
    if (flag === undefined) problems.push(`${fromEnv.name}="${fromEnv.value}" is not a yes/no value: use true or false (also 1/0, yes/no, on/off)`);
    else raw[key] = flag;
  }
  return { kind: 'run', config: buildConfig(raw, env, problems) };
}

/**
 * The value of an option's variable, under its name or an older one; an empty variable counts
 * as unset. Both names set to different values is refused: which one the operator meant
 * cannot be guessed, and the older name may sit forgotten in a unit file.
 */
function readVariable(spec: OptionSpec, env: NodeJS.ProcessEnv, problems: string[]): { name: string; value: string } | undefined {
  const set = [spec.env, ...(spec.envAliases ?? [])].flatMap((name) => {
    const value = name === undefined ? undefined : env[name];
    return name !== undefined && value !== undefined && value !== '' ? [{ name, value }] : [];
  });
  const [first, ...others] = set;
  const differing = others.filter((other) => other.value !== first.value);
  if (differing.length > 0) {
    problems.push(
      `${first.name} and ${differing.map((other) => other.name).join(', ')} (its older name) are both set, to different values: keep ${spec.env} only`,
    );
  }
  return first;
}

function readFlags(argv: readonly string[]): RawValues {
  const options = Object.fromEntries(
    (Object.values(optionSpecs) as OptionSpec[])
      .filter((spec) => spec.flag !== '')
      .map((spec) => [spec.flag, { type: spec.type, multiple: spec.multiple ?? false, ...(spec.short ? { short: spec.short } : {}) }]),
  );
  try {
    const { values } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false });
    const byFlag = new Map((Object.entries(optionSpecs) as [OptionKey, OptionSpec][]).map(([k, s]) => [s.flag, k]));
    return Object.fromEntries(Object.entries(values).map(([flag, v]) => [byFlag.get(flag), v])) as RawValues;
  } catch (error) {
    throw new ConfigError([`${(error as Error).message} (see --help)`]);
  }
}

function buildConfig(raw: RawValues, env: NodeJS.ProcessEnv, problems: string[]): GatewayConfig {
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

  const jobHistory = Number(text('jobHistory') ?? 500);
  if (!Number.isInteger(jobHistory) || jobHistory < 1 || jobHistory > 100_000)
    problems.push(`job-history "${text('jobHistory')}" is not a number of calls from 1 to 100000`);

  const uploadDir = resolve(text('uploadDir') ?? tmpdir());
  if (!isDirectory(uploadDir)) problems.push(`upload-dir "${uploadDir}" is not an existing directory`);

  const stallText = text('uploadStallTimeout') ?? '2m';
  const uploadStallMs = parseDuration(stallText);
  if (uploadStallMs === undefined) problems.push(`upload-stall-timeout "${stallText}" is not a duration such as 30s or 2m`);

  // Not checked here: it is the daemon's directory, and a start-up warning says when it cannot be cleaned.
  const daemonTmpDir = resolve(text('daemonTmpdir') ?? '/tmp');

  const logLevel = (text('logLevel') ?? 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`log-level "${logLevel}" is not one of ${LOG_LEVELS.join(', ')}`);

  const logFormat = (text('logFormat') ?? 'auto') as LogFormat;
  if (!LOG_FORMATS.includes(logFormat)) problems.push(`log-format "${logFormat}" is not one of ${LOG_FORMATS.join(', ')}`);

  const metricsText = text('metricsListen');
  const metricsListen = metricsText === undefined ? undefined : parseListenAddress(metricsText);
  if (metricsText !== undefined && metricsListen === undefined) {
    problems.push(`metrics-listen "${metricsText}" is not HOST:PORT, e.g. 127.0.0.1:9464 or [::1]:9464`);
  }

  const authFailureLimit = parseAuthFailureLimit(text('authFailureLimit'), problems);
  const noAuthFromText = text('noAuthFrom');
  const noAuthFrom = noAuthFromText === undefined ? undefined : parseTrustProxy(noAuthFromText, problems, 'no-auth-from');
  if (noAuthFrom !== undefined && auth.mode === 'none') problems.push('--no-auth-from has no effect with --no-auth, which lets every caller in');
  const graceText = text('shutdownGrace') ?? '30s';
  const shutdownGraceMs = graceText.trim() === '0' ? 0 : parseDuration(graceText);
  if (shutdownGraceMs === undefined) problems.push(`shutdown-grace "${graceText}" is not a duration such as 30s, 2m or 0`);

  const listen = buildListenSettings(
    {
      listenSocket: text('listenSocket'),
      socketMode: text('socketMode'),
      tlsCert: text('tlsCert'),
      tlsKey: text('tlsKey'),
      trustProxy: text('trustProxy'),
      hostOrPortGiven: raw.host !== undefined || raw.port !== undefined,
      noAuth: raw.noAuth === true,
      allowRemoteNoAuth: raw.allowRemoteNoAuth === true,
    },
    problems,
  );

  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze({
    ...listen,
    port,
    host,
    servicePath,
    auth,
    bus,
    jobTimeouts,
    maxBodyBytes: maxBodyBytes!,
    uploadDir,
    uploadStallMs: uploadStallMs!,
    daemonTmpDir,
    jobHistory,
    logLevel,
    logFormat,
    metricsListen,
    authFailureLimit,
    noAuthFrom,
    shutdownGraceMs: shutdownGraceMs!,
  });
}

/** HOST:PORT, with an IPv6 host in brackets. */
function parseListenAddress(text: string): ListenAddress | undefined {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^\s:[\]]+)):(\d{1,5})$/.exec(text);
  const port = Number(match?.[3]);
  if (!match || port > 65535) return undefined;
  return Object.freeze({ host: match[1] ?? match[2], port });
}

function buildAuth(raw: RawValues, host: string, problems: string[]): AuthConfig {
  const htpasswdFile = raw.htpasswd as string | undefined;
  if (raw.noAuth === true) {
    if (htpasswdFile !== undefined) problems.push('--no-auth and --htpasswd exclude each other');
    // A unix socket is reached only from this machine (its mode is checked in listen-settings).
    if (raw.listenSocket === undefined && !isLoopback(host) && raw.allowRemoteNoAuth !== true) {
      problems.push(
        `--no-auth on ${host} would let anyone on the network deploy: listen on 127.0.0.1 (e.g. behind an authenticating proxy) or add --allow-remote-no-auth`,
      );
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
  if (htpasswdFile !== undefined) {
    checkHtpasswdFile(htpasswdFile, problems);
    if (!username && !password) return Object.freeze({ mode: 'users', users: Object.freeze({}), htpasswdFile });
  }
  if (username === undefined || username === '' || password === undefined || password === '') {
    if (htpasswdFile !== undefined) {
      problems.push(
        'DISNIX_WEBSERVICE_USERNAME and a password (DISNIX_WEBSERVICE_PASSWORD or --password-file) go together; give both or, with --htpasswd, neither',
      );
      return { mode: 'none' };
    }
    problems.push(
      'no credentials: set DISNIX_WEBSERVICE_USERNAME and DISNIX_WEBSERVICE_PASSWORD (or --password-file), or run with --no-auth behind an authenticating proxy',
    );
    return { mode: 'none' };
  }
  if (username.includes(':')) problems.push('the user name must not contain ":" (HTTP basic auth cannot carry it)');
  const users = Object.freeze({ [username]: password });
  return Object.freeze(htpasswdFile === undefined ? { mode: 'users', users } : { mode: 'users', users, htpasswdFile });
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

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function parseSize(text: string): number | undefined {
  const match = /^(\d+)\s*([kmg]?)(?:i?b)?$/i.exec(text.trim());
  return match ? Number(match[1]) * SIZE_UNITS[match[2].toLowerCase()] : undefined;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
}
