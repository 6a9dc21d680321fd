/**
 * disnix-soap-client's four forms that move file contents, run as the coordinator runs them
 * (the compiled client in a child process, a private $TMPDIR) against the real gateway and the
 * demo disnix-service: closures and nested snapshot trees round-trip byte for byte, failures
 * leave nothing in $TMPDIR, and the progress bar shows only on a terminal.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { DEFAULT_SERVICE_PATH } from '../../protocol/operations';
import { demoLayout } from '../../demo/demo-layout';
import { useGatewayEnvironment } from '../../testing/gateway-fixture';
import { CLIENT, type ClientRun, assertClientBuilt, runClient } from '../../testing/run-client';
import { addStorePath } from '../../testing/demo-store';
import { sha256 } from '../../testing/transfer-wire';

type Run = Pick<ClientRun, 'code' | 'stdout' | 'stderr'>;

const gw = useGatewayEnvironment();
let work: string;
let clientTmp: string;

beforeAll(async () => {
  assertClientBuilt();
  work = await mkdtemp(join(tmpdir(), 'client-transfer-'));
}, 60_000);
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});
beforeEach(async () => {
  clientTmp = await mkdtemp(join(work, 'tmp-'));
});

function client(args: readonly string[], target = gw.url): Promise<Run> {
  return runClient(['--target', target, ...args], { TMPDIR: clientTmp, DISNIX_SOAP_CLIENT_USERNAME: gw.username, DISNIX_SOAP_CLIENT_PASSWORD: gw.password });
}

function expectSuccess(run: Run): string {
  expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
  return run.stdout;
}

async function writeTree(dir: string, tree: Readonly<Record<string, Buffer>>): Promise<void> {
  for (const [path, content] of Object.entries(tree)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
}

async function treeDigests(dir: string, prefix = ''): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) Object.assign(files, await treeDigests(join(dir, entry.name), relative));
    else files[relative] = sha256(await readFile(join(dir, entry.name)));
  }
  return files;
}

describe('closures', () => {
  it('--export --remotefile prints a file under $TMPDIR; --import --localfile of it restores the path', async () => {
    const content = randomBytes(20 * 1024 * 1024);
    const path = await addStorePath(gw.daemon.stateDir, 'client-roundtrip', content);
    const stdout = expectSuccess(await client(['--export', '--remotefile', path]));
    expect(stdout).toMatch(/^\/\S+\n$/);
    const closure = stdout.trimEnd();
    expect(dirname(closure)).toBe(clientTmp);
    expect(await readdir(clientTmp)).toEqual([basename(closure)]); // nothing else left behind

    // The daemon leaves its closure file in its TMPDIR; the gateway has removed it, as over SSH nothing stays.
    expect((await readdir(gw.daemon.tmpDir)).filter((name) => name.startsWith('disnix.'))).toEqual([]);

    expectSuccess(await client(['--collect-garbage']));
    expect(existsSync(path)).toBe(false);
    expect(expectSuccess(await client(['--import', '--localfile', closure]))).toBe('');
    expect(sha256(await readFile(path))).toBe(sha256(content));
  }, 60_000);

  it('--import --localfile of a file that is not there, or not a file, says so in plain words', async () => {
    const missing = join(work, 'no-such-closure');
    const run = await client(['--import', '--localfile', missing]);
    expect({ code: run.code, stdout: run.stdout, stderr: run.stderr }).toEqual({
      code: 1,
      stdout: '',
      stderr: `disnix-soap-client: cannot read the closure file ${missing}: it does not exist\n`,
    });
    const directory = await client(['--import', '--localfile', work]);
    expect(directory.stderr).toBe(`disnix-soap-client: cannot send the closure file ${work}: it is a directory, not a file\n`);
  });

  it('a download cut short fails loudly and leaves nothing in $TMPDIR', async () => {
    const boundary = 'cut';
    const stub = await listen((_req, res) => {
      res.writeHead(200, { 'Content-Type': `multipart/related; type="application/xop+xml"; boundary="${boundary}"`, 'Content-Length': 10_000_000 });
      res.write(
        `--${boundary}\r\nContent-Type: application/xop+xml; type="text/xml"\r\nContent-ID: <root>\r\n\r\n` +
          '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><t:exportRemoteFileResponse xmlns:t="http://service.disnix.nixos.org">' +
          '<t:return><xop:Include xmlns:xop="http://www.w3.org/2004/08/xop/include" href="cid:file"/></t:return></t:exportRemoteFileResponse></s:Body></s:Envelope>' +
          `\r\n--${boundary}\r\nContent-ID: <file>\r\n\r\n`,
      );
      res.write(randomBytes(1_000_000), () => res.socket?.destroy());
    });
    try {
      const run = await client(['--export', '--remotefile', '/nix/store/x'], stub.url);
      expect({ code: run.code, stdout: run.stdout }).toEqual({ code: 1, stdout: '' });
      expect(run.stderr).toMatch(/closed before the answer was complete/);
      expect(await readdir(clientTmp)).toEqual([]);
    } finally {
      await stub.close();
    }
  });

  it('shows a progress bar with bytes, rate and ETA on a terminal, and only there', async () => {
    const path = await addStorePath(gw.daemon.stateDir, 'client-progress', randomBytes(4 * 1024 * 1024));
    const command = [process.execPath, CLIENT, '--target', gw.url, '--export', '--remotefile', path].map((word) => `'${word}'`).join(' ');
    const run = await new Promise<Run>((resolve) => {
      const env = { PATH: process.env.PATH ?? '', TMPDIR: clientTmp, DISNIX_SOAP_CLIENT_USERNAME: gw.username, DISNIX_SOAP_CLIENT_PASSWORD: gw.password };
      execFile('script', ['-qec', command, '/dev/null'], { env }, (error, stdout, stderr) => resolve({ code: error ? 1 : 0, stdout, stderr }));
    });
    expect(run.code).toBe(0);
    // While the target exports, the line says so; then the bar counts the bytes.
    expect(run.stdout).toMatch(/download closure \| target exporting\.\.\. \d+s/);
    expect(run.stdout).toMatch(/download closure .*\d+% \| [\d.]+ MiB \/ [\d.]+ MiB \| [\d.]+ [KMG]?i?B\/s \| ETA/);
    expect(run.stdout).toMatch(new RegExp(`${clientTmp}/disnix-closure-\\w+`));
  });
});

describe('snapshots', () => {
  const trees: Record<string, Record<string, Buffer>> = {
    'snap-one': { 'db/dump.sql': Buffer.from('INSERT 1;\n'), 'db/wal/0001': randomBytes(300_000), 'meta.json': Buffer.from('{}') },
    'snap-two': { 'a/b/c/d.txt': Buffer.from('deep'), empty: Buffer.alloc(0), 'with space.txt': Buffer.from('x') },
  };

  it('--import-snapshots --localfile DIR DIR uploads every tree; --export-snapshots brings them back', async () => {
    const dirs: string[] = [];
    for (const [name, tree] of Object.entries(trees)) {
      const dir = join(work, 'local', name);
      await writeTree(dir, tree);
      dirs.push(dir);
    }
    expect(expectSuccess(await client(['--import-snapshots', '--localfile', '--container', 'mysql', '--component', 'shop', ...dirs]))).toBe('');
    const stored = demoLayout(gw.daemon.stateDir).snapshotsDir;
    for (const [name, tree] of Object.entries(trees)) {
      const expected = Object.fromEntries(Object.entries(tree).map(([path, data]) => [path, sha256(data)]));
      expect(await treeDigests(join(stored, 'mysql', 'shop', name))).toEqual(expected);
    }

    const stdout = expectSuccess(await client(['--export-snapshots', 'mysql/shop/snap-one', 'mysql/shop/snap-two']));
    const downloaded = stdout.trimEnd().split('\n');
    expect(downloaded.map((dir) => basename(dir))).toEqual(['snap-one', 'snap-two']);
    for (const dir of downloaded) {
      expect(dir.startsWith(`${clientTmp}/`)).toBe(true);
      const expected = Object.fromEntries(Object.entries(trees[basename(dir)]).map(([path, data]) => [path, sha256(data)]));
      expect(await treeDigests(dir)).toEqual(expected);
    }
  });

  it('--export-snapshots of something that is not a snapshot fails and leaves nothing in $TMPDIR', async () => {
    const run = await client(['--export-snapshots', 'mysql/shop/never-taken']);
    expect({ code: run.code, stdout: run.stdout }).toEqual({ code: 1, stdout: '' });
    expect(run.stderr).toMatch(/is not a snapshot of the target/);
    expect(await readdir(clientTmp)).toEqual([]);
  });

  it('--import-snapshots --localfile refuses a tree with a link leading outside it', async () => {
    const dir = join(work, 'local', 'linked-out');
    await writeTree(dir, { ok: Buffer.from('fine') });
    const { symlink } = await import('node:fs/promises');
    await symlink('/etc/hostname', join(dir, 'leak'));
    const run = await client(['--import-snapshots', '--localfile', '--container', 'mysql', '--component', 'shop', dir]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/link leak leads outside the snapshot/);
  });
});

async function listen(handler: Parameters<typeof createServer>[1]): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('no address');
  return {
    url: `http://127.0.0.1:${address.port}${DEFAULT_SERVICE_PATH}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
