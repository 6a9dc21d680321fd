import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type OperationName, isRelayed, operationNames } from '../../protocol/operations';
import { useGatewayEnvironment } from '../../testing/gateway-fixture';
import { addDerivation, addStorePath, outputOf } from '../../testing/demo-store';
import { type SoapTestClient, createSoapTestClient } from '../../testing/soap-test-client';

/**
 * Every relayed operation through SOAP (the `soap` package's client, built from the served
 * WSDL) against the demo disnix-service on a real private dbus-daemon: one success and one
 * failure each. The failure is the daemon's own where the daemon can fail the job (the Fault
 * then carries the job's log), else the request's.
 */
// export keeps its default limit (2h): a missing path must be answered at once, not by a limit.
const env = useGatewayEnvironment({ gatewayArgs: ['--job-timeout', 'captureConfig=1500ms'] });
let soap: SoapTestClient;
let stateDir: string;

beforeAll(async () => {
  soap = await createSoapTestClient(env.url, env.username, env.password);
  stateDir = env.daemon.stateDir;
});

const service = (name: string) => addStorePath(stateDir, name, { 'bin/run': '#!/bin/sh\necho hi\n' });
const dysnomia = (derivation: string, type: string, args: string[] = []) => ({ derivation, container: type, type, arguments: args });

type Case = () => Promise<void>;
const cases: Record<
  Exclude<OperationName, 'importLocalFile' | 'exportRemoteFile' | 'importLocalSnapshots' | 'exportRemoteSnapshotPaths' | 'exportRemoteSnapshots'>,
  { success: Case; failure: Case }
> = {
  importm: {
    success: async () => {
      const path = await service('importable');
      const [closure] = await soap.call('export', { derivation: [path] });
      expect(await soap.call('importm', { closure })).toEqual([]);
      expect(await soap.call('printInvalid', { derivation: [path] })).toEqual([]);
    },
    failure: async () => {
      expect(await soap.fault('importm', { closure: join(stateDir, 'no-such-closure') })).toMatch(/no-such-closure/);
    },
  },
  export: {
    success: async () => {
      const [closure, ...rest] = await soap.call('export', { derivation: [await service('exportable')] });
      expect(rest).toEqual([]);
      // Its path is the caller's to use on the target (import --remotefile): it stays.
      expect(existsSync(closure)).toBe(true);
      expect(closure).toMatch(new RegExp(`^${env.daemon.tmpDir}/disnix\\.[A-Za-z0-9]{6}$`));
    },
    failure: async () => {
      // The daemon's export would never signal; print_invalid, a job of its own, finds the path first.
      const valid = await service('exportable-beside-missing');
      const missing = join(env.daemon.storeDir, '00000000000000000000000000000000-missing');
      const before = await readdir(env.daemon.tmpDir);
      const methods: string[] = [];
      const onStarted = ({ operation }: { operation: string }) => methods.push(operation);
      env.gateway.relay.on('started', onStarted);
      try {
        const fault = await soap.fault('export', { derivation: [valid, missing] });
        expect(fault).toBe(`export: these paths are not valid on the target, so nothing was exported: ${missing}`);
      } finally {
        env.gateway.relay.off('started', onStarted);
      }
      expect(methods).toEqual(['export']); // one job: the check; no export job ran
      expect(await readdir(env.daemon.tmpDir)).toEqual(before); // and so no empty closure file was left
    },
  },
  printInvalid: {
    success: async () => {
      const valid = await service('valid-one');
      const missing = join(env.daemon.storeDir, '11111111111111111111111111111111-absent');
      expect(await soap.call('printInvalid', { derivation: [valid, missing] })).toEqual([missing]);
    },
    failure: async () => {
      expect(await soap.fault('printInvalid', { derivation: ['/etc/passwd'] })).toMatch(/not in the Nix store/);
    },
  },
  realise: {
    success: async () => {
      const drvs = [await addDerivation(stateDir, 'app-a'), await addDerivation(stateDir, 'app-b')];
      expect(await soap.call('realise', { derivation: drvs })).toEqual(drvs.map(outputOf));
    },
    failure: async () => {
      const drv = await addDerivation(stateDir, 'broken', { fail: 'builder for broken failed with exit code 1' });
      expect(await soap.fault('realise', { derivation: [drv] })).toMatch(/builder for broken failed with exit code 1/);
    },
  },
  set: {
    success: async () => {
      const path = await service('profile-content');
      expect(await soap.call('set', { profile: 'settest', derivation: path })).toEqual([]);
      expect(await soap.call('queryInstalled', { profile: 'settest' })).toEqual([path]);
    },
    failure: async () => {
      expect(await soap.fault('set', { profile: 'settest', derivation: join(env.daemon.storeDir, '22222222222222222222222222222222-gone') })).toMatch(/gone/);
    },
  },
  queryInstalled: {
    success: async () => {
      // The real daemon answers an unknown profile with one empty string; so does the demo.
      expect(await soap.call('queryInstalled', { profile: 'never-set' })).toEqual(['']);
    },
    failure: async () => {
      const response = await postRaw('queryInstalled', '');
      expect(response.text).toMatch(/queryInstalled: part "profile" is missing/);
    },
  },
  queryRequisites: {
    success: async () => {
      const lib = await service('lib');
      const app = await addStorePath(stateDir, 'app-with-lib', 'uses lib', [lib]);
      expect((await soap.call('queryRequisites', { derivation: [app] })).sort()).toEqual([app, lib].sort());
    },
    failure: async () => {
      expect(await soap.fault('queryRequisites', { derivation: [join(env.daemon.storeDir, '33333333333333333333333333333333-nope')] })).toMatch(/nope/);
    },
  },
  collectGarbage: {
    success: async () => {
      const garbage = await service('garbage');
      expect(await soap.call('collectGarbage', { deleteOld: true })).toEqual([]);
      expect(existsSync(garbage)).toBe(false);
    },
    failure: async () => {
      // A Fault about the call's arguments travels with HTTP 500, as SOAP 1.1 has it (README, Errors).
      const response = await postRaw('collectGarbage', '<ns:deleteOld>maybe</ns:deleteOld>');
      expect(response.status).toBe(500);
      expect(response.text).toMatch(/part "deleteOld" must be true or false, not "maybe"/);
    },
  },
  activate: dysnomiaCases('activate'),
  deactivate: dysnomiaCases('deactivate'),
  deleteState: dysnomiaCases('deleteState'),
  snapshot: dysnomiaCases('snapshot'),
  restore: {
    success: async () => {
      const path = await service('restorable');
      await soap.call('activate', dysnomia(path, 'process'));
      await soap.call('snapshot', dysnomia(path, 'process'));
      expect(await soap.call('restore', dysnomia(path, 'process'))).toEqual([]);
    },
    failure: dysnomiaCases('restore').failure,
  },
  lock: {
    success: async () => {
      expect(await soap.call('lock', { profile: 'locktest' })).toEqual([]);
      await soap.call('unlock', { profile: 'locktest' });
    },
    failure: async () => {
      await soap.call('lock', { profile: 'locktwice' });
      expect(await soap.fault('lock', { profile: 'locktwice' })).toMatch(/Cannot exclusively open the lock file!/);
    },
  },
  unlock: {
    success: async () => {
      await soap.call('lock', { profile: 'unlocktest' });
      expect(await soap.call('unlock', { profile: 'unlocktest' })).toEqual([]);
    },
    failure: async () => {
      expect(await soap.fault('unlock', { profile: 'never-locked' })).toMatch(/There is no lock file!/);
    },
  },
  queryAllSnapshots: {
    success: async () => {
      const path = await service('snapped');
      await soap.call('activate', dysnomia(path, 'echo'));
      await soap.call('snapshot', dysnomia(path, 'echo'));
      const all = await soap.call('queryAllSnapshots', { container: 'echo', component: 'snapped' });
      expect(all.length).toBeGreaterThan(0);
      expect(all.every((s) => s.startsWith('echo/snapped/'))).toBe(true);
    },
    failure: () => rawFault('queryAllSnapshots', '<ns:container>echo</ns:container><ns:component><x/></ns:component>', /part "component" must be a string/),
  },
  queryLatestSnapshot: {
    success: async () => {
      const path = await service('latest');
      await soap.call('activate', dysnomia(path, 'echo'));
      await soap.call('snapshot', dysnomia(path, 'echo'));
      const latest = await soap.call('queryLatestSnapshot', { container: 'echo', component: 'latest' });
      expect(latest).toHaveLength(1);
      expect(latest[0]).toMatch(/^echo\/latest\//);
    },
    failure: () => rawFault('queryLatestSnapshot', '<ns:container>echo</ns:container><ns:colour>red</ns:colour>', /takes no element "colour"/),
  },
  printMissingSnapshots: {
    success: async () => {
      expect(await soap.call('printMissingSnapshots', { component: ['echo/nothing/here'] })).toEqual(['echo/nothing/here']);
    },
    failure: async () => {
      expect(await soap.fault('printMissingSnapshots', { component: ['../../etc'] })).toMatch(/\.\./);
    },
  },
  importSnapshots: {
    success: async () => {
      const dir = join(stateDir, 'upload', 'imported-generation');
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'state.txt'), 'state');
      expect(await soap.call('importSnapshots', { container: 'echo', component: 'imported', snapshots: [dir] })).toEqual([]);
      expect(await soap.call('queryAllSnapshots', { container: 'echo', component: 'imported' })).toEqual(['echo/imported/imported-generation']);
    },
    failure: async () => {
      expect(await soap.fault('importSnapshots', { container: 'echo', component: 'imported', snapshots: [join(stateDir, 'nowhere')] })).toMatch(/nowhere/);
    },
  },
  resolveSnapshots: {
    success: async () => {
      const [resolved] = await soap.call('resolveSnapshots', { snapshots: ['echo/x/y'] });
      expect(resolved).toBe(join(stateDir, 'snapshots', 'echo', 'x', 'y'));
    },
    failure: async () => {
      expect(await soap.fault('resolveSnapshots', { snapshots: ['/absolute/path'] })).toMatch(/absolute/);
    },
  },
  cleanSnapshots: {
    success: async () => {
      const path = await service('cleaned');
      await soap.call('activate', dysnomia(path, 'echo'));
      for (let i = 0; i < 3; i++) {
        await writeFile(join(stateDir, 'state', 'echo', 'cleaned', 'data'), `generation ${i}`);
        await soap.call('snapshot', dysnomia(path, 'echo'));
      }
      expect(await soap.call('queryAllSnapshots', { container: 'echo', component: 'cleaned' })).toHaveLength(3);
      expect(await soap.call('cleanSnapshots', { keep: 1, container: 'echo', component: 'cleaned' })).toEqual([]);
      expect(await soap.call('queryAllSnapshots', { container: 'echo', component: 'cleaned' })).toHaveLength(1);
      // 0 keeps no generation, as Dysnomia does over SSH.
      expect(await soap.call('cleanSnapshots', { keep: 0, container: 'echo', component: 'cleaned' })).toEqual([]);
      expect(await soap.call('queryAllSnapshots', { container: 'echo', component: 'cleaned' })).toEqual([]);
    },
    failure: () => rawFault('cleanSnapshots', '<ns:keep>many</ns:keep><ns:container/><ns:component/>', /part "keep" must be a 32-bit integer, not "many"/),
  },
  captureConfig: {
    success: async () => {
      const before = await readdir(env.daemon.tmpDir);
      const [expression] = await soap.call('captureConfig', {});
      expect(expression).toMatch(/containers = \{/);
      expect(expression).toMatch(/supervisord-program/);
      // The daemon leaves its disnix.XXXXXX file; the gateway, having read it, has removed it.
      expect(await readdir(env.daemon.tmpDir)).toEqual(before);
    },
    failure: () => rawFault('captureConfig', '<ns:target>x</ns:target>', /captureConfig takes no element "target"/),
  },
};

function dysnomiaCases(operation: 'activate' | 'deactivate' | 'deleteState' | 'snapshot' | 'restore'): { success: Case; failure: Case } {
  return {
    success: async () => {
      const path = await service(`dysnomia-${operation}`);
      if (operation !== 'activate') await soap.call('activate', dysnomia(path, 'echo'));
      expect(await soap.call(operation, dysnomia(path, 'echo', ['x=1']))).toEqual([]);
    },
    failure: async () => {
      const path = await service(`dysnomia-${operation}-failing`);
      expect(await soap.fault(operation, dysnomia(path, 'no-such-module'))).toMatch(/Module: no-such-module cannot be found!/);
    },
  };
}

async function postRaw(operation: string, inner: string): Promise<{ status: number; text: string; body: string }> {
  const { envelope, basicAuthHeader } = await import('../../testing/soap-test-client');
  const response = await fetch(env.url, {
    method: 'POST',
    headers: { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: '""', Authorization: basicAuthHeader(env.username, env.password) },
    body: envelope(operation, inner),
  });
  const body = await response.text();
  // The faultstring, decoded, so that expectations read like the message a person sees.
  const faultstring = /<faultstring>([\s\S]*)<\/faultstring>/.exec(body)?.[1] ?? '';
  const text = faultstring
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
  return { status: response.status, text, body };
}

async function rawFault(operation: string, inner: string, expected: RegExp, status = 500): Promise<void> {
  const response = await postRaw(operation, inner);
  expect(response.status).toBe(status);
  expect(response.body).toMatch(/<soap:Fault><faultcode>soap:Client<\/faultcode>/);
  expect(response.text).toMatch(expected);
}

test('every relayed operation of the table has its cases here', () => {
  expect(Object.keys(cases).sort()).toEqual(operationNames.filter(isRelayed).sort());
});

describe.each(Object.entries(cases))('%s', (_name, { success, failure }) => {
  test('succeeds', success);
  test('fails with a Fault that says why', failure);
});

describe('values disnix-service would misuse are refused before any job runs', () => {
  test.each([
    ['set', { profile: '../../escape', derivation: '/nix/store/x' }, /part "profile" must be a name/],
    ['lock', { profile: 'a/b' }, /part "profile" must be a name/],
    ['activate', { derivation: '/nix/store/x', container: 'echo', type: '../../../bin/sh', arguments: [] }, /part "type" must be a name/],
    ['snapshot', { derivation: '/nix/store/x', container: '..', type: 'echo', arguments: [] }, /part "container" must be a name/],
    ['queryAllSnapshots', { container: 'echo', component: '../x' }, /part "component" must be a name/],
    ['cleanSnapshots', { keep: -1, container: '', component: '' }, /part "keep" must be 0 or more, not -1/],
    ['resolveSnapshots', { snapshots: ['echo/../../../etc'] }, /without \. or \.\. segments/],
  ])('%s %j', async (operation, args, message) => {
    let jobs = 0;
    const count = () => (jobs += 1);
    env.gateway.relay.on('started', count);
    try {
      expect(await soap.fault(operation, args)).toMatch(message);
    } finally {
      env.gateway.relay.off('started', count);
    }
    expect(jobs).toBe(0);
  });
});
