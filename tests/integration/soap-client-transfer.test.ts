/**
 * disnix-soap-client's four forms that move file contents, run as the coordinator runs them
 * (the compiled client in a child process, a private $TMPDIR) against the real gateway and the
 * demo disnix-service: closures and nested snapshot trees round-trip byte for byte, failures
 * leave nothing in $TMPDIR, and the progress bar shows only on a terminal.
 */
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { createGzip, gunzipSync } from 'node:zlib';
import { basename, dirname, join } from 'node:path';
import { DEFAULT_SERVICE_PATH } from '../../protocol/operations';
import { demoLayout } from '../../demo/demo-layout';
import { useGatewayEnvironment } from '../../testing/gateway-fixture';
import { CLIENT, type ClientRun, assertClientBuilt, runClient } from '../../testing/run-client';
import { addStorePath } from '../../testing/demo-store';
import { sha256 } from '../../testing/transfer-wire';
import { waitFor } from '../../testing/streamed-upload';
import { bytesUnder } from '../../testing/upload-dir';

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

function client(args: readonly string[], target = gw.url, env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return runClient(['--target', target, ...args], {
    TMPDIR: clientTmp,
    DISNIX_SOAP_CLIENT_USERNAME: gw.username,
    DISNIX_SOAP_CLIENT_PASSWORD: gw.password,
    ...env,
  });
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

  it.each(['always', 'never'] as const)(
    '--compress=%s: the closure goes down and back up byte-identical',
    async (mode) => {
      // Half random, half text: the compressed form differs from the plain one all along.
      const content = Buffer.concat([randomBytes(6 * 1024 * 1024), Buffer.from('lib/libexample.so.1 '.repeat(300_000))]);
      const path = await addStorePath(gw.daemon.stateDir, `client-compress-${mode}`, content);
      const closure = expectSuccess(await client([`--compress=${mode}`, '--export', '--remotefile', path])).trimEnd();
      expect(await readdir(clientTmp)).toEqual([basename(closure)]);
      const downloaded = sha256(await readFile(closure));

      expectSuccess(await client(['--collect-garbage']));
      expect(existsSync(path)).toBe(false);
      expect(expectSuccess(await client(['--import', '--localfile', closure], gw.url, { DISNIX_SOAP_CLIENT_COMPRESS: mode }))).toBe('');
      expect(sha256(await readFile(path))).toBe(sha256(content));
      // And the download was the same closure file either way.
      expectSuccess(await client([`--compress=${mode === 'always' ? 'never' : 'always'}`, '--export', '--remotefile', path]));
      const other = (await readdir(clientTmp)).find((name) => name !== basename(closure));
      expect(sha256(await readFile(join(clientTmp, other ?? '')))).toBe(downloaded);
    },
    60_000,
  );

  it('compresses (gzip upload, Accept-Encoding: br, gzip) with --compress=always, not with never, nor on loopback by default', async () => {
    const seen: { encoding?: string; accept?: string; length?: string; body: Buffer }[] = [];
    const stub = await listen((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        seen.push({
          encoding: req.headers['content-encoding'],
          accept: req.headers['accept-encoding'],
          length: req.headers['content-length'],
          body: Buffer.concat(chunks),
        });
        const fault =
          '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault><faultcode>s:Server</faultcode><faultstring>stub</faultstring></s:Fault></s:Body></s:Envelope>';
        res.writeHead(500, { 'Content-Type': 'text/xml; charset=utf-8' });
        res.end(fault);
      });
    });
    try {
      const file = join(work, 'stub-closure');
      await writeFile(file, Buffer.from('closure bytes '.repeat(10_000)));
      for (const mode of ['always', 'never', 'auto']) {
        expect((await client([`--compress=${mode}`, '--import', '--localfile', file], stub.url)).stderr).toMatch(/stub/);
        expect((await client([`--compress=${mode}`, '--export', '--remotefile', '/nix/store/x'], stub.url)).stderr).toMatch(/stub/);
      }
      const [upAlways, downAlways, ...plain] = seen;
      expect(upAlways).toMatchObject({ encoding: 'gzip', accept: 'br, gzip', length: undefined });
      expect(gunzipSync(upAlways.body).toString('latin1')).toContain('closure bytes '.repeat(10_000));
      expect(downAlways).toMatchObject({ encoding: 'gzip', accept: 'br, gzip' });
      for (const request of plain) {
        expect(request).toMatchObject({ encoding: undefined, accept: undefined, length: String(request.body.length) });
      }
    } finally {
      await stub.close();
    }
  });

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
      res.writeHead(200, { 'Content-Type': exportAnswerType(boundary), 'Content-Length': 10_000_000 });
      res.write(exportAnswerHead(boundary));
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

  it.each(['SIGINT', 'SIGTERM'] as const)('interrupted by %s mid-download, it removes what it had received and ends by that signal', async (signal) => {
    const boundary = 'stalls';
    const stub = await listen((_req, res) => {
      res.writeHead(200, { 'Content-Type': exportAnswerType(boundary), 'Content-Length': 10_000_000 });
      res.write(exportAnswerHead(boundary));
      // Half the closure, then nothing: the client waits mid-download until it is interrupted.
      res.write(randomBytes(3_000_000));
    });
    try {
      const child = spawn(process.execPath, [CLIENT, '--target', stub.url, '--export', '--remotefile', '/nix/store/x'], {
        env: { PATH: process.env.PATH, TMPDIR: clientTmp, DISNIX_SOAP_CLIENT_USERNAME: 'u', DISNIX_SOAP_CLIENT_PASSWORD: 'p' },
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = once(child, 'exit');
      // Received bytes on disk: the download is under way.
      await waitFor('1 MB of the download on disk', async () => (await bytesUnder(clientTmp)) >= 1_000_000);
      child.kill(signal);
      const [code, endedBy] = await exited;
      expect({ code, endedBy }).toEqual({ code: null, endedBy: signal });
      expect(stderr).toContain(`interrupted (${signal}); what was received so far was removed`);
      expect(await readdir(clientTmp)).toEqual([]);
    } finally {
      await stub.close();
    }
  });

  it('a gzip-compressed download cut short fails loudly and leaves nothing in $TMPDIR', async () => {
    const boundary = 'cut';
    const stub = await listen((_req, res) => {
      res.writeHead(200, { 'Content-Type': exportAnswerType(boundary), 'Content-Encoding': 'gzip' });
      const gzip = createGzip({ level: 1 });
      gzip.pipe(res);
      gzip.write(exportAnswerHead(boundary));
      gzip.write(randomBytes(1_000_000));
      gzip.flush(() => res.write('', () => res.socket?.destroy()));
    });
    try {
      const run = await client(['--compress=always', '--export', '--remotefile', '/nix/store/x'], stub.url);
      expect({ code: run.code, stdout: run.stdout }).toEqual({ code: 1, stdout: '' });
      expect(run.stderr).toMatch(/closed before the answer was complete|cut short|unexpected end/i);
      expect(await readdir(clientTmp)).toEqual([]);
    } finally {
      await stub.close();
    }
  });

  it('shows a progress bar with bytes, rate and ETA on a terminal, and only there', async () => {
    const path = await addStorePath(gw.daemon.stateDir, 'client-progress', randomBytes(4 * 1024 * 1024));
    const run = await onTerminal(['--export', '--remotefile', path]);
    expect(run.code).toBe(0);
    // While the target exports, the line says so; then the bar counts the bytes.
    expect(run.stdout).toMatch(/download closure \| target exporting\.\.\. \d+s/);
    expect(run.stdout).toMatch(/download closure .*\d+% \| [\d.]+ MiB \/ [\d.]+ MiB \| [\d.]+ [KMG]?i?B\/s \| ETA/);
    expect(run.stdout).toMatch(new RegExp(`${clientTmp}/disnix-closure-\\w+`));
  });

  it('a compressed download, which has no length, shows bytes and rate without a total', async () => {
    const path = await addStorePath(gw.daemon.stateDir, 'client-progress-gzip', randomBytes(4 * 1024 * 1024));
    const run = await onTerminal(['--compress=always', '--export', '--remotefile', path]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/download closure \| [\d.]+ MiB \| [\d.]+ [KMG]?i?B\/s/);
    expect(run.stdout).not.toMatch(/download closure \[/);
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

/** Runs the client under script(1), on a terminal of its own: what it drew is in stdout. */
function onTerminal(args: readonly string[]): Promise<Run> {
  const command = [process.execPath, CLIENT, '--target', gw.url, ...args].map((word) => `'${word}'`).join(' ');
  return new Promise<Run>((resolve) => {
    const env = { PATH: process.env.PATH ?? '', TMPDIR: clientTmp, DISNIX_SOAP_CLIENT_USERNAME: gw.username, DISNIX_SOAP_CLIENT_PASSWORD: gw.password };
    execFile('script', ['-qec', command, '/dev/null'], { env }, (error, stdout, stderr) => resolve({ code: error ? 1 : 0, stdout, stderr }));
  });
}

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

/** An exportRemoteFile answer as MTOM, as a stub gateway sends it: its type, and everything before the closure's bytes. */
function exportAnswerType(boundary: string): string {
  return `multipart/related; type="application/xop+xml"; boundary="${boundary}"`;
}

function exportAnswerHead(boundary: string): string {
  return (
    `--${boundary}\r\nContent-Type: application/xop+xml; type="text/xml"\r\nContent-ID: <root>\r\n\r\n` +
    '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><t:exportRemoteFileResponse xmlns:t="http://service.disnix.nixos.org">' +
    '<t:return><xop:Include xmlns:xop="http://www.w3.org/2004/08/xop/include" href="cid:file"/></t:return></t:exportRemoteFileResponse></s:Body></s:Envelope>' +
    `\r\n--${boundary}\r\nContent-ID: <file>\r\n\r\n`
  );
}
