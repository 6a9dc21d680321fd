/**
 * A SOAP stack other than the `soap` package, built from the served WSDL alone: Python zeep
 * (Debian's python3-zeep) sends file contents inline as base64 and reads them back, through
 * the gateway's transfer path, against the demo disnix-service.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useGatewayEnvironment } from '../../testing/gateway-fixture';
import { addStorePath } from '../../testing/demo-store';
import { sha256 } from '../../testing/transfer-wire';
import { ZEEP_CLIENT } from '../../testing/paths';

const SCRIPT = ZEEP_CLIENT;
const PYTHON = process.env.DISNIX_ZEEP_PYTHON ?? '/usr/bin/python3';

const env = useGatewayEnvironment();
let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'zeep-transfer-'));
}, 60_000);
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

function zeep(operation: string, args: unknown): Promise<{ code: number; result: unknown; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      PYTHON,
      [SCRIPT, `${env.url}?wsdl`, operation, JSON.stringify(args)],
      { env: { ...process.env, DISNIX_USER: env.username, DISNIX_PASSWORD: env.password }, timeout: 120_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, result: stdout.trim() === '' ? undefined : JSON.parse(stdout), stderr });
      },
    );
  });
}

test('zeep downloads a closure (exportRemoteFile) and uploads it again (importLocalFile)', async () => {
  const content = randomBytes(2 * 1024 * 1024);
  const path = await addStorePath(env.daemon.stateDir, 'zeep-transfer', content);

  const download = await zeep('exportRemoteFile', { derivation: [path] });
  expect({ code: download.code, stderr: download.stderr }).toEqual({ code: 0, stderr: '' });
  const closure = Buffer.from(download.result as string, 'base64');
  // Sent, and so removed from the daemon's TMPDIR, where the daemon leaves it.
  expect((await readdir(env.daemon.tmpDir)).filter((name) => name.startsWith('disnix.'))).toEqual([]);

  expect((await zeep('collectGarbage', { deleteOld: false })).code).toBe(0);
  expect(existsSync(path)).toBe(false);
  const file = join(work, 'closure');
  await writeFile(file, closure);
  const upload = await zeep('importLocalFile', { closure: { path: file } });
  expect({ code: upload.code, stderr: upload.stderr, result: upload.result }).toEqual({ code: 0, stderr: '', result: null });
  expect(sha256(await readFile(path))).toBe(sha256(content));
}, 120_000);

test('zeep uploads a nested snapshot and lists and downloads its files', async () => {
  const tree: Record<string, Buffer> = { 'a/b/one.txt': Buffer.from('one'), 'two.bin': randomBytes(100_000), empty: Buffer.alloc(0) };
  const args = {
    container: 'zeep',
    component: 'store',
    snapshot: 'zeep-snap',
    content: await Promise.all(
      Object.values(tree).map(async (data, i) => {
        await writeFile(join(work, `file-${i}`), data);
        return { path: join(work, `file-${i}`) };
      }),
    ),
    path: Object.keys(tree),
  };
  const upload = await zeep('importLocalSnapshots', args);
  expect({ code: upload.code, stderr: upload.stderr }).toEqual({ code: 0, stderr: '' });
  const paths = await zeep('exportRemoteSnapshotPaths', { snapshot: 'zeep/store/zeep-snap' });
  expect(paths.result).toEqual(Object.keys(tree).sort());
  const files = await zeep('exportRemoteSnapshots', { snapshot: 'zeep/store/zeep-snap' });
  // zeep reads an empty base64Binary element as None.
  const got = (files.result as (string | null)[]).map((data) => sha256(Buffer.from(data ?? '', 'base64')));
  expect(got).toEqual(
    Object.keys(tree)
      .sort()
      .map((path) => sha256(tree[path])),
  );
}, 120_000);
