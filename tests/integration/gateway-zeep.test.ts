import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type OperationName, isRelayed, operationNames } from '../../protocol/operations';
import { useGatewayEnvironment } from '../../testing/gateway-fixture';
import { addDerivation, addStorePath, outputOf } from '../../testing/demo-store';
import { ZEEP_CLIENT } from '../../testing/paths';

/**
 * A second SOAP stack (Python zeep, Debian's python3-zeep) builds its client from the WSDL the
 * gateway serves and calls every non-file operation against the demo disnix-service.
 */
const SCRIPT = ZEEP_CLIENT;
const PYTHON = process.env.DISNIX_ZEEP_PYTHON ?? '/usr/bin/python3';

const env = useGatewayEnvironment();
beforeAll(async () => {});

function zeep(operation: string, args: unknown): Promise<{ code: number; result: unknown; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      PYTHON,
      [SCRIPT, `${env.url}?wsdl`, operation, JSON.stringify(args)],
      { env: { ...process.env, DISNIX_USER: env.username, DISNIX_PASSWORD: env.password }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, result: stdout.trim() === '' ? undefined : JSON.parse(stdout), stderr });
      },
    );
  });
}

type Scenario = () => Promise<{ args: unknown; expected: unknown }>;
const stateDir = () => env.daemon.stateDir;
const service = (name: string) => addStorePath(stateDir(), name, 'content');
const echo = (derivation: string, args: string[] = []) => ({ derivation, container: 'echo', type: 'echo', arguments: args });

const scenarios: Record<string, Scenario> = {
  importm: async () => {
    const { result } = await zeep('export', { derivation: [await service('zeep-import')] });
    return { args: { closure: result as string }, expected: null };
  },
  export: async () => ({ args: { derivation: [await service('zeep-export')] }, expected: expect.stringMatching(/^\//) }),
  printInvalid: async () => {
    const missing = join(env.daemon.storeDir, '44444444444444444444444444444444-zeep-missing');
    return { args: { derivation: [await service('zeep-valid'), missing] }, expected: [missing] };
  },
  realise: async () => {
    const drv = await addDerivation(stateDir(), 'zeep-build');
    return { args: { derivation: [drv] }, expected: [outputOf(drv)] };
  },
  set: async () => ({ args: { profile: 'zeep', derivation: await service('zeep-profile') }, expected: null }),
  // The daemon answers [""]; zeep reads the empty <return></return> as None (lxml: no text).
  queryInstalled: async () => ({ args: { profile: 'zeep-unknown' }, expected: [null] }),
  queryRequisites: async () => {
    const path = await service('zeep-requisite');
    return { args: { derivation: [path] }, expected: [path] };
  },
  collectGarbage: async () => ({ args: { deleteOld: false }, expected: null }),
  activate: async () => ({ args: echo(await service('zeep-activate'), ['a=b']), expected: null }),
  deactivate: async () => ({ args: echo(await service('zeep-deactivate')), expected: null }),
  deleteState: async () => ({ args: echo(await service('zeep-delete-state')), expected: null }),
  snapshot: async () => {
    const path = await service('zeep-snapshot');
    await zeep('activate', echo(path));
    return { args: echo(path), expected: null };
  },
  restore: async () => {
    const path = await service('zeep-restore');
    await zeep('activate', echo(path));
    await zeep('snapshot', echo(path));
    return { args: echo(path), expected: null };
  },
  lock: async () => ({ args: { profile: 'zeep-lock' }, expected: null }),
  unlock: async () => {
    await zeep('lock', { profile: 'zeep-unlock' });
    return { args: { profile: 'zeep-unlock' }, expected: null };
  },
  queryAllSnapshots: async () => ({ args: { container: 'echo', component: 'no-snapshots-here' }, expected: [] }),
  queryLatestSnapshot: async () => ({ args: { container: 'echo', component: 'no-snapshots-here' }, expected: [] }),
  printMissingSnapshots: async () => ({ args: { component: ['echo/zeep/missing'] }, expected: ['echo/zeep/missing'] }),
  importSnapshots: async () => {
    const dir = join(stateDir(), 'zeep-upload', 'zeep-generation');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'f'), 'state');
    return { args: { container: 'echo', component: 'zeep-imported', snapshots: [dir] }, expected: null };
  },
  resolveSnapshots: async () => ({ args: { snapshots: ['echo/a/b'] }, expected: [join(stateDir(), 'snapshots', 'echo', 'a', 'b')] }),
  cleanSnapshots: async () => ({ args: { keep: 1, container: 'echo', component: '' }, expected: null }),
  captureConfig: async () => ({ args: {}, expected: expect.stringMatching(/containers = \{/) }),
};

test('every relayed operation has a scenario here', () => {
  expect(Object.keys(scenarios).sort()).toEqual(operationNames.filter(isRelayed).sort());
});

test.each(operationNames.filter(isRelayed))(
  'zeep calls %s',
  async (operation: OperationName) => {
    const { args, expected } = await scenarios[operation]();
    const run = await zeep(operation, args);
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    expect(run.result).toEqual(expected);
  },
  60_000,
);

test('zeep sees a failed job as a Fault carrying the job log', async () => {
  const run = await zeep('unlock', { profile: 'zeep-never-locked' });
  expect(run.code).toBe(2);
  expect(run.result).toEqual({ fault: expect.stringMatching(/There is no lock file!/) });
});
