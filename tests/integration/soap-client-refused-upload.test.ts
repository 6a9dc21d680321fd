/**
 * An upload the gateway refuses part-way (its --upload-dir is full, no disnix-service is there to
 * import a closure that streams to it, the request is too large, the password is wrong) reaches the user as the gateway's reason, every time: the gateway
 * answers while the client is still sending, and neither side may let the rest of the upload
 * turn that answer into a bare broken pipe. Runs the compiled gateway and client as child
 * processes, 20 times per case, while two CPU burners keep the machine busy (that is when the
 * client's next write used to fail before it read the answer).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type PrivateBus, startPrivateBus } from '../../demo/private-bus';
import { CREDENTIALS, type GatewayProcess, startGatewayProcess } from '../../testing/gateway-process';
import { type ClientRun, assertClientBuilt, runClient } from '../../testing/run-client';
import { expectEmptySoon } from '../../testing/upload-dir';

const RUNS = 20;
/** Two clients at a time beside two burners: busy, without flooding two cores for long. */
const CONCURRENCY = 2;
const CLIENT_TIMEOUT_MS = 120_000;
/** The burners end by themselves after this even if the teardown never runs. */
const BURN_MS = 10 * 60_000;
const UPLOAD_DIR_SIZE = '4m';
const CLOSURE_BYTES = 24 * 1024 * 1024;

let work: string;
let uploads: string;
let mounted = false;
let closure: string;
let snapshot: string;
let bus: PrivateBus;
const burners: ChildProcess[] = [];

beforeAll(async () => {
  if (process.getuid?.() !== 0) {
    throw new Error("this test mounts a small tmpfs as the gateway's --upload-dir and so must run as root (as CI does)");
  }
  assertClientBuilt();
  work = await mkdtemp(join(tmpdir(), 'refused-upload-'));
  uploads = join(work, 'uploads');
  await mkdir(uploads);
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${UPLOAD_DIR_SIZE},mode=0700`, 'tmpfs', uploads]);
  mounted = true;
  closure = join(work, 'closure.nar');
  await writeFile(closure, randomBytes(CLOSURE_BYTES));
  snapshot = join(work, 'snapshot');
  await mkdir(snapshot);
  await writeFile(join(snapshot, 'state.db'), randomBytes(CLOSURE_BYTES));
  bus = await startPrivateBus();
  for (let i = 0; i < 2; i += 1) {
    burners.push(spawn(process.execPath, ['-e', `const end = Date.now() + ${BURN_MS}; while (Date.now() < end) {}`], { stdio: 'ignore' }));
  }
}, 60_000);

afterAll(async () => {
  for (const burner of burners) burner.kill('SIGKILL');
  await bus?.stop();
  if (mounted) execFileSync('umount', [uploads]);
  if (work) await rm(work, { recursive: true, force: true });
});

const importClosure = () => ['--import', '--localfile', closure];

/** Runs the client's upload (a closure unless told otherwise) RUNS times, CONCURRENCY at a time. */
async function uploadRepeatedly(gateway: GatewayProcess, password = CREDENTIALS.password, upload = importClosure()): Promise<ClientRun[]> {
  const runs: ClientRun[] = [];
  const one = () =>
    runClient(
      ['--target', gateway.url, ...upload],
      { TMPDIR: work, DISNIX_SOAP_CLIENT_USERNAME: CREDENTIALS.username, DISNIX_SOAP_CLIENT_PASSWORD: password },
      { timeoutMs: CLIENT_TIMEOUT_MS },
    );
  const worker = async () => {
    while (runs.length < RUNS) {
      const pending = runs.length;
      runs.length += 1;
      runs[pending] = await one();
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return runs;
}

/** Every run failed with exit status 1 and printed `expected`; the failures are shown otherwise. */
function expectEveryRunSays(runs: readonly ClientRun[], expected: string): void {
  expect(runs).toHaveLength(RUNS);
  const others = runs.filter((run) => run.code !== 1 || !run.stderr.includes(expected) || /EPIPE|ECONNRESET/.test(run.stderr));
  expect(others.map((run) => ({ code: run.code, stderr: run.stderr }))).toEqual([]);
}

async function withGateway(args: readonly string[], body: (gateway: GatewayProcess) => Promise<void>): Promise<void> {
  const gateway = await startGatewayProcess(bus.address, ['--upload-dir', uploads, ...args]);
  try {
    await body(gateway);
    expect(gateway.alive()).toBe(true);
  } finally {
    await gateway.stop();
  }
}

test('a full --upload-dir: every run prints the ENOSPC Fault, none a broken pipe, and nothing is left', async () => {
  // A snapshot: it goes to a file first (a closure streams into the import and takes no room there).
  await withGateway([], async (gateway) => {
    const runs = await uploadRepeatedly(gateway, CREDENTIALS.password, [
      '--import-snapshots',
      '--localfile',
      '--container',
      'mysql-database',
      '--component',
      'db',
      snapshot,
    ]);
    expectEveryRunSays(runs, `the gateway cannot store the upload in ${uploads} (--upload-dir): ENOSPC`);
    await expectEmptySoon(uploads);
  });
}, 600_000);

test('a closure while no disnix-service is on the bus: every run says so, none a broken pipe, and nothing is left', async () => {
  // The import starts at the closure's first bytes, and its refusal ends the call while the client is still sending.
  await withGateway([], async (gateway) => {
    const runs = await uploadRepeatedly(gateway);
    expectEveryRunSays(runs, 'disnix-service is not running: nobody owns org.nixos.disnix.Disnix');
    await expectEmptySoon(uploads);
  });
}, 600_000);

test('markup beyond --max-body-size: every run prints the size Fault, and nothing is left', async () => {
  // The smallest limit refuses the request in its first bytes, with the whole closure still to send.
  await withGateway(['--max-body-size', '64'], async (gateway) => {
    const runs = await uploadRepeatedly(gateway);
    expectEveryRunSays(runs, 'the request is larger than the 64 bytes accepted (--max-body-size)');
    await expectEmptySoon(uploads);
  });
}, 600_000);

test('a wrong password on a large upload: every run says the credentials were refused, and nothing is left', async () => {
  // Without a limit on refused logins: this test makes more of them than the default allows.
  await withGateway(['--auth-failure-limit', '0'], async (gateway) => {
    const runs = await uploadRepeatedly(gateway, 'not-the-password');
    expectEveryRunSays(runs, 'refused the credentials (HTTP 401 Unauthorized)');
    await expectEmptySoon(uploads);
  });
}, 600_000);
