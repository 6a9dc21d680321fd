/**
 * The original Java disnix-soap-client (Axis2 1.8 RPCServiceClient), replayed from recordings:
 * tests/fixtures/axis2 holds its requests byte for byte (gzip, MTOM, chunked, positional
 * argN/itemN children, nils, no credentials), one per step of a session that calls every
 * operation. Each is sent over a plain socket to a gateway started with --no-auth-from
 * 127.0.0.1 on the demo disnix-service, and each answer is read the way the Java client reads
 * it (tests/support/axis2-response.ts). Re-record with `npm run build && npm run record-axis2-fixtures`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCommandLine } from '../../server/config/config';
import { type Gateway, startGateway } from '../../server/gateway';
import { silentLogger } from '../../server/logging/logger';
import { operationNames } from '../../protocol/operations';
import { type HttpAnswer, type SendOptions, sendRaw } from '../../testing/axis2-http';
import { type Manifest, type ManifestStep, fixtureDir } from '../../testing/axis2-record';
import { axis2Request } from '../../testing/axis2-request';
import { type Axis2Answer, Axis2Fault, type JavaValue, readAxis2Answer } from '../../testing/axis2-response';
import { type Seeded, scenarioSteps, seedScenario } from '../../testing/axis2-scenario';
import { useGatewayEnvironment } from '../../testing/gateway-fixture';
import { expectEmptySoon } from '../../testing/upload-dir';
import { readJobLog } from '../../testing/demo-store';
import { type ImportJob, importJobsOn, stagingBytes, waitFor } from '../../testing/streamed-upload';
import { createSoapTestClient } from '../../testing/soap-test-client';

const manifest = JSON.parse(readFileSync(join(fixtureDir(), 'manifest.json'), 'utf8')) as Manifest;
const recording = (step: ManifestStep): Buffer => readFileSync(join(fixtureDir(), step.file));
const stepNamed = (id: string): ManifestStep => {
  const step = manifest.steps.find((s) => s.id === id);
  if (!step) throw new Error(`the manifest has no step ${id}`);
  return step;
};

let uploadDir: string;
let seeded: Seeded;
const port = () => Number(new URL(env.url).port);

beforeAll(async () => {
  uploadDir = await mkdtemp(join(tmpdir(), 'axis2-uploads-'));
  // The recorded requests name absolute paths in this directory; seeding it again gives the
  // same store paths (demo store hashes depend on content only).
  seeded = await seedScenario(manifest.stateDir);
}, 60_000);
const env = useGatewayEnvironment(() => ({ daemonStateDir: manifest.stateDir, gatewayArgs: ['--no-auth-from', '127.0.0.1', '--upload-dir', uploadDir] }));
afterAll(async () => {
  if (uploadDir) await rm(uploadDir, { recursive: true, force: true });
  await rm(manifest.stateDir, { recursive: true, force: true });
});

test('the recordings cover every operation of the table', () => {
  expect([...new Set(manifest.steps.map((step) => step.operation))].sort()).toEqual([...operationNames].sort());
});

test('the recordings are what the scenario records now (else re-record)', () => {
  const steps = scenarioSteps(seeded);
  expect(steps.map((step) => step.id)).toEqual(manifest.steps.map((step) => step.id));
  for (const step of steps) {
    const bytes = axis2Request(step.operation, step.args, { seed: step.id, path: manifest.path, host: manifest.host });
    expect({ step: step.id, same: bytes.equals(recording(stepNamed(step.id))) }).toEqual({ step: step.id, same: true });
    expect(step.expect).toEqual(stepNamed(step.id).expect);
  }
});

/** The answers so far, by step id, for expectations and checks that refer to earlier steps. */
const answers = new Map<string, JavaValue>();

async function replay(step: ManifestStep, options: SendOptions = {}): Promise<Axis2Answer | Axis2Fault> {
  const http = await sendRaw(port(), recording(step), options);
  try {
    return await readAxis2Answer(http, step.javaReturn);
  } catch (error) {
    if (error instanceof Axis2Fault) return error;
    throw new Error(`${step.id}: the Java client could not read the answer (HTTP ${http.status}): ${(error as Error).message}\n${preview(http)}`);
  }
}

function preview(http: HttpAnswer): string {
  return `${JSON.stringify(http.headers)}\n${http.body.toString('latin1', 0, 600)}`;
}

async function expectAnswer(step: ManifestStep, result: Axis2Answer | Axis2Fault): Promise<void> {
  const { expect: expected } = step;
  if (expected.kind === 'fault') {
    if (!(result instanceof Axis2Fault)) throw new Error(`${step.id}: a Fault was expected, the answer was ${JSON.stringify(result.value)}`);
    expect(result.status).toBe(500);
    expect(result.faultstring).toMatch(new RegExp(expected.pattern));
    return;
  }
  if (result instanceof Axis2Fault) throw new Error(`${step.id}: Fault ${result.faultcode} (HTTP ${result.status}): ${result.faultstring}`);
  expect(result.status).toBe(200);
  answers.set(step.id, result.value);
  switch (expected.kind) {
    case 'void':
      // invokeRobust reads nothing but Faults; the original service answered <return>0</return>.
      expect(result.firstText).toBe('0');
      break;
    case 'equals':
      expect(result.value).toEqual(expected.value);
      break;
    case 'matches':
      expect(result.value).toMatch(new RegExp(expected.pattern));
      break;
    case 'sameMembers':
      expect([...(result.value as string[])].sort()).toEqual([...expected.value].sort());
      break;
    case 'fileAnsweredBy': {
      const path = answers.get(expected.step);
      if (typeof path !== 'string') throw new Error(`${step.id} needs the path answered by ${expected.step}, which did not succeed`);
      const downloaded = result.value as Buffer;
      expect(downloaded.length).toBeGreaterThan(0);
      expect(downloaded.equals(await readFile(path))).toBe(true);
      break;
    }
    case 'filesOf': {
      const paths = answers.get(expected.step);
      if (!Array.isArray(paths)) throw new Error(`${step.id} needs the paths answered by ${expected.step}, which did not succeed`);
      const files = result.value as Buffer[];
      // The Java client pairs the i-th file with the i-th path: the orders must agree.
      expect(files.map((file) => file.toString('base64'))).toEqual((paths as string[]).map((path) => expected.contents[path]));
      break;
    }
  }
}

const read = (path: string) => readFile(path, 'utf8');
const snapshots = (...parts: string[]) => join(seeded.stateDir, 'snapshots', ...parts);

/** What the demo daemon's state must show after a step, where that is cheap to see. */
const stateChecks: Readonly<Record<string, () => Promise<void>>> = {
  '02-importm': async () => expect(existsSync(join(seeded.storeDir, seeded.remoteClosureEntry))).toBe(true),
  '03-importLocalFile': async () => {
    expect(existsSync(join(seeded.storeDir, seeded.uploadClosureEntry))).toBe(true);
    await expectEmptySoon(uploadDir);
  },
  '07-realise': async () => expect(existsSync(seeded.derivation.replace(/\.drv$/, ''))).toBe(true),
  '11-activate': async () => expect(await read(join(seeded.stateDir, 'active', 'echo', 'axis2-app'))).toBe(`${seeded.app}\n`),
  '12-snapshot': async () => expect(await read(snapshots('echo', 'axis2-app', seeded.snapshotName, 'data.txt'))).toBe('axis2 state\n'),
  '16-restore': async () => expect(await read(join(seeded.stateDir, 'state', 'echo', 'axis2-app', 'data.txt'))).toBe('axis2 state\n'),
  '17-deactivate': async () => expect(existsSync(join(seeded.stateDir, 'active', 'echo', 'axis2-app'))).toBe(false),
  '18-deleteState': async () => expect(existsSync(join(seeded.stateDir, 'state', 'echo', 'axis2-app'))).toBe(false),
  // Refused before any job: the directory was not moved.
  '21-importSnapshots-nulls-fault': async () => expect(existsSync(join(seeded.remoteSnapshotDir, 'state.txt'))).toBe(true),
  '22-importSnapshots': async () => expect(await read(snapshots('echo', 'axis2-app', 'axis2-imported-gen', 'state.txt'))).toBe('imported state\n'),
  '23-importLocalSnapshots': async () => {
    for (const { relative, content } of seeded.localSnapshotFiles) {
      expect((await readFile(snapshots('echo', 'axis2-uploaded', 'axis2-upload-gen', relative))).equals(content)).toBe(true);
    }
    await expectEmptySoon(uploadDir);
  },
  '26-cleanSnapshots-nulls': async () => {
    expect(await readdir(snapshots('echo', 'axis2-app'))).toEqual(['axis2-imported-gen']);
    expect(await readdir(snapshots('echo', 'axis2-uploaded'))).toEqual(['axis2-upload-gen']);
  },
  '30-collectGarbage': async () => {
    expect(existsSync(seeded.garbage)).toBe(false);
    expect(existsSync(seeded.profileContent)).toBe(true); // the profile keeps it
  },
};

describe('the Java client session, replayed in order', () => {
  test.each(manifest.steps.map((step) => [step.id, step] as const))(
    '%s',
    async (_id, step) => {
      if (step.operation === 'importLocalFile') {
        // The closure is imported while it arrives: with most of the request sent and the rest
        // held back, the daemon's import job has started on the upload and has unpacked most of
        // the closure's 3 MiB file into its staging directory already.
        const request = recording(step);
        let unpacked = 0;
        let jobs: ImportJob[] = [];
        const result = await replay(step, {
          pauseAt: Math.floor(request.length * 0.7),
          between: async () => {
            unpacked = await waitFor('the import to unpack 1 MiB', async () => {
              const bytes = await stagingBytes(seeded.storeDir);
              return bytes >= 1024 * 1024 && bytes;
            }).catch(() => 0);
            jobs = await importJobsOn(env.daemon.logDir, uploadDir);
          },
        });
        expect(unpacked).toBeGreaterThanOrEqual(1024 * 1024);
        // One job, still running while the request was incomplete: its log holds the header line only.
        expect(jobs.map((job) => job.log)).toEqual([expect.stringMatching(/^Importing: .*\/disnix-upload-[^/]+\/parts\/\d+\n$/)]);
        await expectAnswer(step, result);
        expect((await readJobLog(seeded.stateDir, jobs[0].pid)).split('\n')).toContain(join(seeded.storeDir, seeded.uploadClosureEntry));
      } else {
        await expectAnswer(step, await replay(step));
      }
      await stateChecks[step.id]?.();
    },
    60_000,
  );

  test('every state check names a step', () => {
    for (const id of Object.keys(stateChecks)) expect(manifest.steps.map((step) => step.id)).toContain(id);
  });
});

describe('on the same gateway', () => {
  test('document/literal calls with credentials still work', async () => {
    const soap = await createSoapTestClient(env.url, env.username, env.password);
    expect(await soap.call('resolveSnapshots', { snapshots: ['echo/x/y'] })).toEqual([snapshots('echo', 'x', 'y')]);
    expect(await soap.fault('unlock', { profile: 'never-locked' })).toMatch(/There is no lock file!/);
  });

  test('a Java client calling from another address than 127.0.0.1 is challenged', async () => {
    const answer = await sendRaw(port(), recording(stepNamed('01-captureConfig')), { localAddress: '127.0.0.2' });
    expect(answer.status).toBe(401);
    expect(answer.headers['www-authenticate']).toMatch(/^Basic\b/);
  });
});

describe('a gateway without --no-auth-from', () => {
  let gateway: Gateway;
  beforeAll(async () => {
    const command = parseCommandLine(['--host', '127.0.0.1', '--port', '0', '--bus-address', env.busAddress], {
      DISNIX_WEBSERVICE_USERNAME: env.username,
      DISNIX_WEBSERVICE_PASSWORD: env.password,
    });
    if (command.kind !== 'run') throw new Error('unexpected command line');
    gateway = await startGateway(command.config, silentLogger);
  });
  afterAll(() => gateway?.close());

  test('answers the Java client, which sends no credentials, with a Basic challenge', async () => {
    const answer = await sendRaw(Number(new URL(gateway.url).port), recording(stepNamed('01-captureConfig')));
    expect(answer.status).toBe(401);
    expect(answer.headers['www-authenticate']).toMatch(/^Basic\b/);
  });
});
