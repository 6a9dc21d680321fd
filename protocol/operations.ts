/**
 * The one table of Disnix deployment operations. The gateway derives its SOAP handlers and
 * D-Bus calls from it, the client its command-line operations, and the tests their cases;
 * protocol/wsdl.ts generates `wsdl/DisnixWebService.wsdl` from it (`npm run wsdl`), and a unit
 * test fails when the committed file is not what the table generates.
 */

/** How a SOAP part is typed on the wire (and in the WSDL). */
export type PartKind = 'string' | 'strings' | 'boolean' | 'int' | 'file' | 'files';

/** Where the client takes a part's value from. */
export type CliSource =
  | { from: 'option'; option: CliValueOption }
  | { from: 'paths' } // every positional path, as a list
  | { from: 'path' } // the first positional path
  | { from: 'localFiles' }; // file contents read from local paths (transfer operations)

export type CliValueOption = 'profile' | 'container' | 'component' | 'type' | 'arguments' | 'deleteOld' | 'keep';

/**
 * What a value must look like beyond its type. disnix-service checks none of this itself and
 * builds file paths from these values (a profile named `../x` lands outside its directory; a
 * negative `keep` deletes every snapshot and corrupts the generation links), so the gateway
 * refuses them. `keep` 0 is a valid request, as over SSH: Dysnomia then keeps no generation.
 */
export type PartCheck =
  | 'name' // a profile, container, component or Dysnomia type: one file name, no path
  | 'nameOrAny' // the same, or '' for "any"
  | 'relativePaths' // snapshot paths relative to the snapshot store: no '..', not absolute
  | 'notNegative'; // an int of 0 or more

export interface Part {
  readonly name: string;
  readonly kind: PartKind;
  readonly cli?: CliSource;
  readonly check?: PartCheck;
}

/** What the operation answers, after the D-Bus job's signal. */
export type ResultKind =
  | 'none' // `finish`: an empty response
  | 'strings' // `success`: the list as it came
  | 'string' // `success`: its first element (a path on the target)
  | 'fileText' // `success` names a file on the target; its text is the answer
  | 'file' // file content (transfer operations)
  | 'files';

/** The job a relayed operation runs on disnix-service, and how that job ends. */
export interface DbusJob {
  readonly method: string;
  /** Signature of the arguments after the job id. */
  readonly signature: string;
  readonly endsWith: 'finish' | 'success';
  /**
   * disnix-service 0.10 sends no signal at all when this job fails: such a call ends only by its
   * time limit (or by a check made before the job), and its Fault says why.
   */
  readonly silentOnFailure?: true;
  /**
   * The job's string-list argument must name store paths valid on the target. The gateway checks
   * them first with a print_invalid job of their own, and a Fault names those that are not:
   * `export` of an invalid path fails without a signal, so it would end only by its time limit.
   */
  readonly validPathsFirst?: true;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** Builds and garbage collections can take hours, so the general time limit is generous. */
export const DEFAULT_TIME_LIMIT_MS = 12 * HOUR;

/** How the client selects an operation: its flag, and for file-moving pairs, the transfer flag. */
export interface CliOperation {
  readonly flag: string;
  readonly transfer?: 'localfile' | 'remotefile';
}

export interface Operation {
  readonly params: readonly Part[];
  readonly result: ResultKind;
  /** Absent for transfer operations, which the gateway composes from several jobs. */
  readonly dbus?: DbusJob;
  /** A transfer operation: the relayed operation whose job does its work on the target. */
  readonly via?: string;
  /**
   * How long the gateway waits for the job by default (--job-timeout overrides it), where a long
   * wait only ever means trouble; DEFAULT_TIME_LIMIT_MS elsewhere. A transfer takes its job's.
   */
  readonly timeLimitMs?: number;
  readonly cli?: CliOperation;
  readonly summary: string;
}

const paths = { from: 'paths' } as const;
const path = { from: 'path' } as const;
const option = (name: CliValueOption): CliSource => ({ from: 'option', option: name });

// `as const`: the parts' names and kinds stay literal, so that ArgumentsOf knows every operation's parts.
const profile = { name: 'profile', kind: 'string', cli: option('profile'), check: 'name' } as const satisfies Part;
const derivations = { name: 'derivation', kind: 'strings', cli: paths } as const satisfies Part;
const container = { name: 'container', kind: 'string', cli: option('container'), check: 'nameOrAny' } as const satisfies Part;
const component = { name: 'component', kind: 'string', cli: option('component'), check: 'nameOrAny' } as const satisfies Part;

/** The parts of the Dysnomia operations: activate, deactivate, deleteState, snapshot, restore. */
const dysnomiaParts = [
  { name: 'derivation', kind: 'string', cli: path },
  { ...container, check: 'name' },
  { name: 'type', kind: 'string', cli: option('type'), check: 'name' },
  { name: 'arguments', kind: 'strings', cli: option('arguments') },
] as const satisfies readonly Part[];
const dysnomiaJob = (method: string): DbusJob => ({ method, signature: 'sssas', endsWith: 'finish' });

export const operations = {
  importm: {
    summary: 'Imports a closure file that is already on the target into its Nix store',
    params: [{ name: 'closure', kind: 'string', cli: path }],
    result: 'none',
    dbus: { method: 'import', signature: 's', endsWith: 'finish' },
    cli: { flag: 'import', transfer: 'remotefile' },
  },
  importLocalFile: {
    summary: 'Uploads a closure file and imports it into the Nix store of the target',
    params: [{ name: 'closure', kind: 'file', cli: { from: 'localFiles' } }],
    result: 'none',
    via: 'importm',
    cli: { flag: 'import', transfer: 'localfile' },
  },
  export: {
    summary: 'Exports store paths into a closure file on the target; answers its path',
    params: [derivations],
    result: 'string',
    dbus: { method: 'export', signature: 'as', endsWith: 'success', silentOnFailure: true, validPathsFirst: true },
    timeLimitMs: 2 * HOUR,
    cli: { flag: 'export', transfer: 'localfile' },
  },
  exportRemoteFile: {
    summary: 'Exports store paths into a closure file and downloads it',
    params: [derivations],
    result: 'file',
    via: 'export',
    timeLimitMs: 2 * HOUR,
    cli: { flag: 'export', transfer: 'remotefile' },
  },
  printInvalid: {
    summary: 'Answers the given store paths that are not valid on the target',
    params: [derivations],
    result: 'strings',
    dbus: { method: 'print_invalid', signature: 'as', endsWith: 'success' },
    timeLimitMs: HOUR,
    cli: { flag: 'print-invalid' },
  },
  realise: {
    summary: 'Builds store derivations on the target; answers their output paths',
    params: [derivations],
    result: 'strings',
    dbus: { method: 'realise', signature: 'as', endsWith: 'success' },
    cli: { flag: 'realise' },
  },
  set: {
    summary: 'Makes a Disnix profile of the target refer to the given store path',
    params: [profile, { name: 'derivation', kind: 'string', cli: path }],
    result: 'none',
    dbus: { method: 'set', signature: 'ss', endsWith: 'finish' },
    cli: { flag: 'set' },
  },
  queryInstalled: {
    summary: 'Answers the store paths a Disnix profile of the target holds',
    params: [profile],
    result: 'strings',
    dbus: { method: 'query_installed', signature: 's', endsWith: 'success' },
    timeLimitMs: HOUR,
    cli: { flag: 'query-installed' },
  },
  queryRequisites: {
    summary: 'Answers the closures of the given store paths on the target',
    params: [derivations],
    result: 'strings',
    dbus: { method: 'query_requisites', signature: 'as', endsWith: 'success' },
    timeLimitMs: HOUR,
    cli: { flag: 'query-requisites' },
  },
  collectGarbage: {
    summary: 'Collects garbage in the Nix store of the target',
    params: [{ name: 'deleteOld', kind: 'boolean', cli: option('deleteOld') }],
    result: 'none',
    dbus: { method: 'collect_garbage', signature: 'b', endsWith: 'finish' },
    cli: { flag: 'collect-garbage' },
  },
  activate: {
    summary: 'Activates a service in a container through Dysnomia',
    params: dysnomiaParts,
    result: 'none',
    dbus: dysnomiaJob('activate'),
    cli: { flag: 'activate' },
  },
  deactivate: {
    summary: 'Deactivates a service in a container through Dysnomia',
    params: dysnomiaParts,
    result: 'none',
    dbus: dysnomiaJob('deactivate'),
    cli: { flag: 'deactivate' },
  },
  deleteState: {
    summary: 'Deletes the state of a service in a container through Dysnomia',
    params: dysnomiaParts,
    result: 'none',
    dbus: dysnomiaJob('delete_state'),
    cli: { flag: 'delete-state' },
  },
  snapshot: {
    summary: 'Snapshots the state of a service in a container through Dysnomia',
    params: dysnomiaParts,
    result: 'none',
    dbus: dysnomiaJob('snapshot'),
    cli: { flag: 'snapshot' },
  },
  restore: {
    summary: 'Restores the state of a service in a container through Dysnomia',
    params: dysnomiaParts,
    result: 'none',
    dbus: dysnomiaJob('restore'),
    cli: { flag: 'restore' },
  },
  lock: {
    summary: 'Locks a Disnix profile of the target; fails while it is locked',
    params: [profile],
    result: 'none',
    dbus: { method: 'lock', signature: 's', endsWith: 'finish' },
    timeLimitMs: HOUR,
    cli: { flag: 'lock' },
  },
  unlock: {
    summary: 'Releases the lock on a Disnix profile of the target',
    params: [profile],
    result: 'none',
    dbus: { method: 'unlock', signature: 's', endsWith: 'finish' },
    timeLimitMs: HOUR,
    cli: { flag: 'unlock' },
  },
  queryAllSnapshots: {
    summary: 'Answers all snapshots of a component in a container',
    params: [container, component],
    result: 'strings',
    dbus: { method: 'query_all_snapshots', signature: 'ss', endsWith: 'success' },
    timeLimitMs: HOUR,
    cli: { flag: 'query-all-snapshots' },
  },
  queryLatestSnapshot: {
    summary: 'Answers the latest snapshot of a component in a container',
    params: [container, component],
    result: 'strings',
    dbus: { method: 'query_latest_snapshot', signature: 'ss', endsWith: 'success' },
    timeLimitMs: HOUR,
    cli: { flag: 'query-latest-snapshot' },
  },
  printMissingSnapshots: {
    summary: 'Answers the given snapshots that the target does not have',
    params: [{ name: 'component', kind: 'strings', cli: paths, check: 'relativePaths' }],
    result: 'strings',
    dbus: { method: 'print_missing_snapshots', signature: 'as', endsWith: 'success' },
    timeLimitMs: HOUR,
    cli: { flag: 'print-missing-snapshots' },
  },
  importSnapshots: {
    summary: 'Moves snapshot directories that are on the target into its snapshot store',
    params: [
      { ...container, check: 'name' },
      { ...component, check: 'name' },
      { name: 'snapshots', kind: 'strings', cli: paths },
    ],
    result: 'none',
    dbus: { method: 'import_snapshots', signature: 'ssas', endsWith: 'finish' },
    cli: { flag: 'import-snapshots', transfer: 'remotefile' },
  },
  importLocalSnapshots: {
    summary: 'Uploads a snapshot directory tree and imports it into the snapshot store',
    params: [
      // Names, as in importSnapshots, whose job this runs: they become paths on the target.
      { ...container, check: 'name' },
      { ...component, check: 'name' },
      { name: 'snapshot', kind: 'string', cli: path },
      { name: 'content', kind: 'files', cli: { from: 'localFiles' } },
      { name: 'path', kind: 'strings' },
    ],
    result: 'none',
    via: 'importSnapshots',
    cli: { flag: 'import-snapshots', transfer: 'localfile' },
  },
  exportRemoteSnapshotPaths: {
    summary: 'Answers the relative paths of the files in a snapshot of the snapshot store',
    params: [{ name: 'snapshot', kind: 'string', cli: path }],
    result: 'strings',
    via: 'resolveSnapshots',
  },
  exportRemoteSnapshots: {
    summary: 'Downloads the files of a snapshot of the snapshot store',
    params: [{ name: 'snapshot', kind: 'string', cli: path }],
    result: 'files',
    via: 'resolveSnapshots',
    cli: { flag: 'export-snapshots' },
  },
  resolveSnapshots: {
    summary: 'Answers the absolute paths of snapshots given relative to the snapshot store',
    params: [{ name: 'snapshots', kind: 'strings', cli: paths, check: 'relativePaths' }],
    result: 'strings',
    dbus: { method: 'resolve_snapshots', signature: 'as', endsWith: 'success' },
    timeLimitMs: HOUR,
    cli: { flag: 'resolve-snapshots' },
  },
  cleanSnapshots: {
    summary: 'Removes older snapshot generations, keeping the given number',
    params: [{ name: 'keep', kind: 'int', cli: option('keep'), check: 'notNegative' }, container, component],
    result: 'none',
    dbus: { method: 'clean_snapshots', signature: 'iss', endsWith: 'finish' },
    cli: { flag: 'clean-snapshots' },
  },
  captureConfig: {
    summary: 'Answers a Nix expression of the Dysnomia container configuration of the target',
    params: [],
    result: 'fileText',
    dbus: { method: 'capture_config', signature: '', endsWith: 'success', silentOnFailure: true },
    timeLimitMs: 10 * MINUTE,
    cli: { flag: 'capture-config' },
  },
} as const satisfies Record<string, Operation>;

export type OperationName = keyof typeof operations;

/** A part's value by its kind; `F` is how a file is held (a received file, a file to send). */
export interface PartValues<F> {
  string: string;
  strings: readonly string[];
  boolean: boolean;
  int: number;
  file: F;
  files: readonly F[];
}

/** An operation's arguments by part name, typed from the table: a misspelt part does not compile. */
export type ArgumentsOf<N extends OperationName, F = never> = {
  readonly [P in (typeof operations)[N]['params'][number] as P['name']]: PartValues<F>[P['kind']];
};

export const operationNames = Object.keys(operations) as OperationName[];

export function getOperation(name: OperationName): Operation {
  return operations[name];
}

/** Operations the gateway relays as one D-Bus job; the rest move file contents. */
export function isRelayed(name: OperationName): boolean {
  return getOperation(name).dbus !== undefined;
}

/** The operations that move file contents: not one D-Bus job, but the job of their `via` around a transfer. */
export type TransferOperationName = { [K in OperationName]: (typeof operations)[K] extends { readonly via: string } ? K : never }[OperationName];

export function isTransferOperation(name: string | undefined): name is TransferOperationName {
  return name !== undefined && Object.hasOwn(operations, name) && getOperation(name as OperationName).via !== undefined;
}

/** How long the gateway waits for an operation's job unless --job-timeout says otherwise. */
export function defaultTimeLimitMs(name: OperationName): number {
  return getOperation(name).timeLimitMs ?? DEFAULT_TIME_LIMIT_MS;
}

// Every `via` names an operation of the table, and every transfer names one.
type ViaNames = { [K in OperationName]: (typeof operations)[K] extends { readonly via: infer V } ? V : never }[OperationName];
const viaNamesAnOperation: [ViaNames] extends [OperationName] ? true : never = true;
void viaNamesAnOperation;

export const SERVICE_NAME = 'DisnixWebService';
/** The one port of the service, as the WSDL names it. */
export const PORT_NAME = 'DisnixWebServiceHttpSoap11Endpoint';
export const TARGET_NAMESPACE = 'http://service.disnix.nixos.org';
export const DEFAULT_SERVICE_PATH = '/DisnixWebService/services/DisnixWebService';
