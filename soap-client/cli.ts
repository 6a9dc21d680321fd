import { parseDuration } from '../protocol/durations';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { operationNames, getOperation, type CliValueOption, type Operation, type OperationName, type Part, DEFAULT_SERVICE_PATH } from '../protocol/operations';
import { COMPRESS_MODES, type CompressMode } from './compression';
import { DEFAULT_TIMEOUTS, type Timeouts } from './connection';
import { ClientError, usageError } from './errors';

/** A value the command line gives a SOAP part. */
export type PartValue = string | boolean | number | readonly string[];

/** One operation of the table, with the values of its parts by part name. */
export interface OperationCall {
  readonly operation: OperationName;
  /**
   * Every part whose value comes from the command line. Parts without a `cli` source are
   * left out: a transfer computes them. For `localFiles` parts this holds the local paths.
   */
  readonly values: Readonly<Record<string, PartValue>>;
}

export type CliRequest =
  | { readonly kind: 'help' }
  | { readonly kind: 'version' }
  | {
      readonly kind: 'call';
      readonly target: URL;
      readonly call: OperationCall;
      /** Every positional path, for transfers that make one call per path. */
      readonly paths: readonly string[];
      readonly timeouts: Timeouts;
      /** When transfers compress; soap-client/compression decides what `auto` means for the target. */
      readonly compress: CompressMode;
    };

export interface OptionSpec {
  readonly flag: string;
  readonly short?: string;
  readonly type: 'string' | 'boolean';
  readonly multiple?: true;
  /** Shown in `--help` after the flag, for options that take a value. */
  readonly placeholder?: string;
  readonly description: string;
}

/** The command-line form of every option the operations table can take a part from. */
export const valueOptions: Readonly<Record<CliValueOption, OptionSpec>> = {
  profile: {
    flag: 'profile',
    short: 'p',
    type: 'string',
    placeholder: 'PROFILE',
    description: 'Disnix profile on the target (default: $DISNIX_PROFILE, else "default")',
  },
  container: {
    flag: 'container',
    short: 'C',
    type: 'string',
    placeholder: 'CONTAINER',
    description: 'Container of the component (default: the --type for activation operations, else any)',
  },
  component: {
    flag: 'component',
    short: 'c',
    type: 'string',
    placeholder: 'COMPONENT',
    description: 'Component hosted in the container (default: any)',
  },
  type: {
    flag: 'type',
    type: 'string',
    placeholder: 'TYPE',
    description: 'Dysnomia module that manages the component, such as process or echo',
  },
  arguments: {
    flag: 'arguments',
    type: 'string',
    multiple: true,
    placeholder: 'KEY=VALUE',
    description: 'Argument for the Dysnomia module; repeat it for several',
  },
  deleteOld: {
    flag: 'delete-old',
    short: 'd',
    type: 'boolean',
    description: 'Also remove older generations of the Nix profiles',
  },
  keep: {
    flag: 'keep',
    type: 'string',
    placeholder: 'NUM',
    description: 'Number of snapshot generations to keep (default: 1)',
  },
};

/** Options that select or steer the call rather than fill a part. */
export const generalOptions: readonly OptionSpec[] = [
  { flag: 'target', short: 't', type: 'string', placeholder: 'URL', description: 'Service URL of the gateway (the targetEPR)' },
  { flag: 'localfile', type: 'boolean', description: 'The paths are on this machine (--import, --export, --import-snapshots)' },
  { flag: 'remotefile', type: 'boolean', description: 'The paths are on the target (--import, --export, --import-snapshots)' },
  { flag: 'command', type: 'string', placeholder: 'COMMAND', description: 'Command for --shell (accepted; --shell itself is not available)' },
  {
    flag: 'connect-timeout',
    type: 'string',
    placeholder: 'TIME',
    description: `How long to try to connect, TLS handshake included, such as 30s or 2m; 0 for no limit (default: $DISNIX_SOAP_CLIENT_CONNECT_TIMEOUT, else ${DEFAULT_TIMEOUTS.connectMs / 1000}s)`,
  },
  {
    flag: 'idle-timeout',
    type: 'string',
    placeholder: 'TIME',
    description:
      'Give up when no byte moves for this long while the request goes out or the answer comes in; ' +
      'never while the target runs the job, which may take hours. 0 for no limit ' +
      `(default: $DISNIX_SOAP_CLIENT_IDLE_TIMEOUT, else ${DEFAULT_TIMEOUTS.idleMs / 60_000}m)`,
  },
  {
    flag: 'compress',
    type: 'string',
    placeholder: 'WHEN',
    description:
      'Whether closure and snapshot transfers go compressed, uploads sent as gzip and downloads asked for as br or gzip: ' +
      'auto (on, except for a target on loopback, where it only costs time), always or never ' +
      '(default: $DISNIX_SOAP_CLIENT_COMPRESS, else auto)',
  },
  { flag: 'help', short: 'h', type: 'boolean', description: 'Show this help' },
  { flag: 'version', short: 'v', type: 'boolean', description: 'Show the version' },
];

/** Short forms of operation flags, as in disnix-client. */
export const operationShortFlags: Readonly<Record<string, string>> = { realise: 'r', 'query-installed': 'q' };

export const SHELL_FLAG = 'shell';
export const SHELL_UNSUPPORTED = '--shell cannot travel over the SOAP API: disnix-service has no D-Bus method for it; use disnix-ssh-client for shell sessions';

/** Every operation flag, in table order; several operations share one when a transfer flag tells them apart. */
export const operationFlags: readonly string[] = [...new Set(operationNames.flatMap((name) => getOperation(name).cli?.flag ?? []))];

type ArgOption = NonNullable<ParseArgsConfig['options']>[string];

/** util.parseArgs refuses keys that are present but undefined. */
function argOption(type: 'string' | 'boolean', short?: string, multiple?: boolean): ArgOption {
  return { type, ...(short ? { short } : {}), ...(multiple ? { multiple } : {}) };
}

const parseConfig: ParseArgsConfig = {
  strict: true,
  allowPositionals: true,
  options: Object.fromEntries([
    ...[...operationFlags, SHELL_FLAG].map((flag) => [flag, argOption('boolean', operationShortFlags[flag])]),
    ...[...Object.values(valueOptions), ...generalOptions].map((spec) => [spec.flag, argOption(spec.type, spec.short, spec.multiple)]),
  ]),
};

type ParsedValues = Readonly<Record<string, string | boolean | string[] | undefined>>;

/** Reads the command line; throws a `ClientError` that names what is wrong. */
export function parseCommandLine(argv: readonly string[], env: NodeJS.ProcessEnv): CliRequest {
  const { values, positionals } = readArguments(argv);
  if (values.help) return { kind: 'help' };
  if (values.version) return { kind: 'version' };

  const given = [...operationFlags, SHELL_FLAG].filter((flag) => values[flag] === true);
  if (given.includes(SHELL_FLAG)) throw new ClientError(SHELL_UNSUPPORTED);
  if (given.length === 0) throw usageError('no operation given: name one, such as --query-installed');
  if (given.length > 1) {
    throw usageError(`give exactly one operation, not ${given.map((flag) => `--${flag}`).join(' and ')}`);
  }
  const flag = given[0];
  const target = parseTarget(values.target);
  const operation = selectOperation(flag, values.localfile === true, values.remotefile === true);
  const context: ValueContext = { flag, operation: getOperation(operation), values, positionals, env };
  const partValues: Record<string, PartValue> = {};
  for (const part of context.operation.params) {
    const value = readPart(part, context);
    if (value !== undefined) partValues[part.name] = value;
  }
  return {
    kind: 'call',
    target,
    call: { operation, values: partValues },
    paths: positionals,
    timeouts: readTimeouts(values, env),
    compress: readCompress(values, env),
  };
}

/** From --compress, else $DISNIX_SOAP_CLIENT_COMPRESS (an empty one counts as unset), else auto. */
function readCompress(values: ParsedValues, env: NodeJS.ProcessEnv): CompressMode {
  const option = stringValue(values.compress);
  const [text, source] = option !== undefined ? [option, '--compress'] : [env.DISNIX_SOAP_CLIENT_COMPRESS || undefined, 'DISNIX_SOAP_CLIENT_COMPRESS'];
  if (text === undefined) return 'auto';
  const mode = COMPRESS_MODES.find((candidate) => candidate === text.trim().toLowerCase());
  if (mode === undefined) throw usageError(`${source} takes ${COMPRESS_MODES.join(', ')}; got '${text}'`);
  return mode;
}

/** Each limit from its option, else its environment variable (the coordinator passes no options), else the default. */
function readTimeouts(values: ParsedValues, env: NodeJS.ProcessEnv): Timeouts {
  const read = (flag: string, variable: string, fallback: number): number => {
    const option = stringValue(values[flag]);
    if (option !== undefined) return parseTimeout(option, `--${flag}`);
    const fromEnv = env[variable];
    return fromEnv ? parseTimeout(fromEnv, variable) : fallback;
  };
  return {
    connectMs: read('connect-timeout', 'DISNIX_SOAP_CLIENT_CONNECT_TIMEOUT', DEFAULT_TIMEOUTS.connectMs),
    idleMs: read('idle-timeout', 'DISNIX_SOAP_CLIENT_IDLE_TIMEOUT', DEFAULT_TIMEOUTS.idleMs),
  };
}

/** `30s`, `10m`, `2h`, `500ms`, or a bare number of seconds (`0.5`); `0` for no limit: the gateway's form (protocol/durations). */
export function parseTimeout(text: string, source: string): number {
  const ms = parseDuration(text, { allowZero: true }) ?? Number.NaN;
  // Beyond what a timer can hold (about 24 days) is no limit in practice: ask for 0 instead.
  if (!(ms >= 0 && ms <= 2 ** 31 - 1)) {
    throw usageError(`${source} needs a time such as 30s, 10m or 2h (0 for no limit); got '${text}'`);
  }
  return ms;
}

function readArguments(argv: readonly string[]): { values: ParsedValues; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ ...parseConfig, args: [...argv] });
    return { values: values as ParsedValues, positionals };
  } catch (error) {
    const { code, message } = error as { code?: unknown; message?: unknown };
    if (typeof code !== 'string' || !code.startsWith('ERR_PARSE_ARGS_')) throw error;
    throw usageError(describeParseError(code, String(message)));
  }
}

/** Rephrases util.parseArgs' messages, which suggest `--` tricks, into plain ones. */
function describeParseError(code: string, message: string): string {
  // The messages quote the option as '--name', '-n' or '-n, --name <value>': name the long form.
  const quoted = /'([^']*)'/.exec(message)?.[1] ?? '';
  const option = /--[^\s,=<]+/.exec(quoted)?.[0] ?? /-[^\s,=<]+/.exec(quoted)?.[0] ?? quoted;
  switch (code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${option}`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return message.includes('does not take an argument') ? `option ${option} takes no value` : `option ${option} needs a value`;
    default:
      return message;
  }
}

function parseTarget(target: ParsedValues[string]): URL {
  if (typeof target !== 'string' || target === '') {
    throw usageError('no target given: add --target with the URL of the gateway (the targetEPR)');
  }
  const url = URL.canParse(target) ? new URL(target) : undefined;
  if (url?.protocol !== 'http:' && url?.protocol !== 'https:') {
    throw usageError(`--target ${target} is not an http:// or https:// URL; give the service URL, such as http://host:8080${DEFAULT_SERVICE_PATH}`);
  }
  return url;
}

/** Picks the table entry for a flag; flags shared by file-moving pairs need --localfile or --remotefile. */
function selectOperation(flag: string, localfile: boolean, remotefile: boolean): OperationName {
  const candidates = operationNames.filter((name) => getOperation(name).cli?.flag === flag);
  const plain = candidates.find((name) => getOperation(name).cli?.transfer === undefined);
  if (plain !== undefined) return plain;
  if (localfile && remotefile) throw usageError(`--${flag} takes --localfile or --remotefile, not both`);
  if (!localfile && !remotefile) throw usageError(`--${flag} needs --localfile or --remotefile`);
  const transfer = localfile ? 'localfile' : 'remotefile';
  const chosen = candidates.find((name) => getOperation(name).cli?.transfer === transfer);
  if (chosen === undefined) throw usageError(`--${flag} cannot be combined with --${transfer}`);
  return chosen;
}

interface ValueContext {
  readonly flag: string;
  readonly operation: Operation;
  readonly values: ParsedValues;
  readonly positionals: readonly string[];
  readonly env: NodeJS.ProcessEnv;
}

function readPart(part: Part, context: ValueContext): PartValue | undefined {
  switch (part.cli?.from) {
    case 'option':
      return readOption(part.cli.option, context);
    case 'paths':
      return context.positionals;
    case 'path':
      return requirePaths(part, context)[0];
    case 'localFiles':
      return requirePaths(part, context);
    case undefined:
      return undefined;
  }
}

function requirePaths(part: Part, context: ValueContext): readonly string[] {
  if (context.positionals.length === 0) {
    throw usageError(`--${context.flag} needs a path (its ${part.name}) after the options`);
  }
  return context.positionals;
}

function readOption(option: CliValueOption, context: ValueContext): PartValue {
  const given = context.values[valueOptions[option].flag];
  switch (option) {
    case 'profile':
      return stringValue(given) ?? (context.env.DISNIX_PROFILE || 'default');
    case 'container':
      // Activation operations default the container to the module type, as disnix-client does.
      return stringValue(given) ?? (takesPartFrom(context.operation, 'type') ? readOption('type', context) : '');
    case 'component':
      return stringValue(given) ?? '';
    case 'type': {
      const type = stringValue(given);
      if (type === undefined) {
        throw usageError(`--${context.flag} needs --type: the Dysnomia module, such as process or echo`);
      }
      return type;
    }
    case 'arguments':
      return Array.isArray(given) ? given : [];
    case 'deleteOld':
      return given === true;
    case 'keep':
      return parseKeep(stringValue(given));
  }
}

function stringValue(value: ParsedValues[string]): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function takesPartFrom(operation: Operation, option: CliValueOption): boolean {
  return operation.params.some((part) => part.cli?.from === 'option' && part.cli.option === option);
}

const MAX_INT32 = 2 ** 31 - 1;

function parseKeep(value: string | undefined): number {
  if (value === undefined) return 1;
  const keep = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!(keep <= MAX_INT32)) {
    throw usageError(`--keep needs a whole number of generations, 0 or more (0 keeps none); got '${value}'`);
  }
  return keep;
}

/** Operations that move file contents (uploads, downloads) rather than text parts. */
export function movesFileContents(operation: Operation): boolean {
  const fileKinds: readonly string[] = ['file', 'files'];
  return fileKinds.includes(operation.result) || operation.params.some((part) => fileKinds.includes(part.kind));
}
