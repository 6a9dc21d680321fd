/**
 * importLocalFile imports the closure while it arrives (server/operations/streamed-import.ts):
 * the gateway pipes it into the daemon's import job through a named pipe, which the demo
 * disnix-service opens as the real one does, with a blocking open(2) in its main loop before
 * it answers. These tests prove what that must never break: no caller, slow, killed or
 * hostile, leaves the daemon blocked on an open or a read; a truncated upload fails the job
 * cleanly and imports nothing; the file is used instead where a pipe is not possible.
 *
 * Requests go over a raw TCP socket, so that the client can be killed at chosen byte offsets;
 * closures are real (the demo's own export of an 8 MiB store path made in a store of its own),
 * so that "not imported" means the path is not in the target's store.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { type Socket, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCommandLine } from '../../server/config/config';
import { startGateway } from '../../server/gateway';
import { CREDENTIALS, startGatewayProcess } from '../../testing/gateway-process';
import { type GatewayEnvironment, useGatewayEnvironment } from '../../testing/gateway-fixture';
import { recordingLogger } from '../../testing/recording-logger';
import { run } from '../../testing/server-process';
import { basicAuthHeader } from '../../testing/soap-test-client';
import {
  type ImportJob,
  TRUNCATED_IMPORT,
  closureOfNewPath,
  daemonLogDir,
  importJobsOn,
  stagingBytes,
  stagingDirs,
  waitFor,
} from '../../testing/streamed-upload';
import { type WireRequest, faultOf, inlineRequest, mtomRequest, post } from '../../testing/transfer-wire';
import { expectEmptySoon } from '../../testing/upload-dir';

const MiB = 1024 * 1024;
const CLOSURE_CONTENT_BYTES = 8 * MiB;
const BOUNDARY = 'MIMEBoundary_test0123456789';

let scratch: string;
const dirs = { main: '', stall: '', slow: '', slowStall: '' };
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'streamed-import-'));
  for (const name of Object.keys(dirs) as (keyof typeof dirs)[]) {
    dirs[name] = join(scratch, `uploads-${name}`);
    await mkdir(dirs[name]);
  }
});
afterAll(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

/** An upload on a raw socket: the test writes (some of) the body, and may kill it whenever it likes. */
interface RawUpload {
  readonly socket: Socket;
  /** Writes and resolves once the bytes are handed to the kernel. */
  send(bytes: Buffer): Promise<void>;
  /** What the gateway sent until it closed the connection (or the test destroyed it). */
  readonly closed: Promise<string>;
}

async function rawUpload(url: string, auth: { username: string; password: string }, contentType: string, contentLength: number): Promise<RawUpload> {
  const { port, pathname } = new URL(url);
  const socket = connect(Number(port), '127.0.0.1');
  socket.on('error', () => undefined);
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
  const closed = new Promise<string>((resolve) => socket.once('close', () => resolve(received)));
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write(
    `POST ${pathname} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: ${contentType}\r\nContent-Length: ${contentLength}\r\n` +
      `SOAPAction: ""\r\nAuthorization: ${basicAuthHeader(auth.username, auth.password)}\r\nConnection: close\r\n\r\n`,
  );
  return {
    socket,
    send: (bytes) => new Promise<void>((resolve, reject) => socket.write(bytes, (error) => (error ? reject(error) : resolve()))),
    closed,
  };
}

/** An 8 MiB store path's closure, in an MTOM request, with where the closure's bytes lie in the body. */
async function closureUpload(name: string): Promise<WireRequest & { entry: string; start: number; end: number; rootEnd: number }> {
  const { closure, entry } = await closureOfNewPath(name, randomBytes(CLOSURE_CONTENT_BYTES));
  const request = mtomRequest('importLocalFile', [['closure', closure]], BOUNDARY);
  const start = request.body.indexOf(closure.subarray(0, 64));
  expect(request.body.subarray(start, start + closure.length).equals(closure)).toBe(true);
  return { ...request, entry, start, end: start + closure.length, rootEnd: request.body.indexOf(`\r\n--${BOUNDARY}`) };
}

function statusOf(response: string): number | undefined {
  const match = /^HTTP\/1\.1 (\d{3})/.exec(response);
  return match ? Number(match[1]) : undefined;
}

/** Everything a test against `env` looks at; `uploadDir` is the gateway's --upload-dir. */
function probes(env: GatewayEnvironment, uploadDir: () => string) {
  const auth = () => ({ username: env.username, password: env.password });
  const imports = () => importJobsOn(env.daemon.logDir, uploadDir());
  const newJobs = async (before: readonly ImportJob[]) => (await imports()).filter((job) => !before.some((old) => old.pid === job.pid));
  const inStore = (entry: string) => existsSync(join(env.daemon.storeDir, entry));
  return {
    auth,
    imports,
    newJobs,
    inStore,
    /** The one import job started since `before`, once its log exists. */
    async startedJob(before: readonly ImportJob[]): Promise<ImportJob> {
      const [job, ...more] = await waitFor('an import job on the upload', async () => {
        const jobs = await newJobs(before);
        return jobs.length > 0 && jobs;
      });
      expect(more).toEqual([]);
      return job;
    },
    /** The import jobs started since `before` once all have ended, each failed on a truncated closure. */
    async expectFailed(before: readonly ImportJob[], count = 1): Promise<void> {
      const jobs = await waitFor(
        'the import jobs to fail',
        async () => {
          const jobs = await newJobs(before);
          return jobs.every((job) => TRUNCATED_IMPORT.test(job.log)) && jobs;
        },
        15_000,
      ).catch(async () => newJobs(before));
      expect(jobs.map((job) => job.log)).toEqual(Array.from({ length: count }, () => expect.stringMatching(TRUNCATED_IMPORT)));
    },
    /**
     * After a call, whatever became of it: no pipe or file left in the upload directory, no
     * import under way in the daemon, which answers a D-Bus call at once, and the gateway still
     * runs jobs (lock, then unlock, of a profile).
     */
    async expectSettled(): Promise<void> {
      await expectEmptySoon(uploadDir());
      await waitFor('the daemon to end its imports', async () => (await stagingDirs(env.daemon.storeDir)).length === 0);
      expect(await daemonLogDir(env.busAddress)).toBe(env.daemon.logDir);
      for (const operation of ['lock', 'unlock']) {
        const answer = await post(env.url, auth(), inlineRequest(operation, [['profile', 'streamed-import-check']]));
        expect({ operation, status: answer.status, fault: faultOf(answer) }).toEqual({ operation, status: 200, fault: undefined });
      }
    },
  };
}

describe('a client killed at every phase of its upload', () => {
  const env = useGatewayEnvironment(() => ({ gatewayArgs: ['--upload-dir', dirs.main] }));
  const p = probes(env, () => dirs.main);

  it('control: the whole request over the same raw socket imports the closure', async () => {
    const before = await p.imports();
    const request = await closureUpload('whole');
    const upload = await rawUpload(env.url, p.auth(), request.contentType, request.body.length);
    await upload.send(request.body);
    const response = await upload.closed;
    expect(statusOf(response)).toBe(200);
    expect(p.inStore(request.entry)).toBe(true);
    const [job, ...more] = await p.newJobs(before);
    expect(more).toEqual([]);
    expect(job.log.split('\n')).toContain(join(env.daemon.storeDir, request.entry));
    await p.expectSettled();
  });

  it('(a) killed while sending the envelope, before the closure part: no import job at all', async () => {
    const before = await p.imports();
    const request = await closureUpload('killed-in-envelope');
    const upload = await rawUpload(env.url, p.auth(), request.contentType, request.body.length);
    await upload.send(request.body.subarray(0, Math.floor(request.rootEnd / 2)));
    upload.socket.destroy();
    await p.expectSettled();
    expect(await p.newJobs(before)).toEqual([]);
    expect(p.inStore(request.entry)).toBe(false);
  });

  type Upload = Awaited<ReturnType<typeof closureUpload>>;
  /** Where the client is killed (a byte offset of its request), and what shows it got that far. */
  const phases: readonly [title: string, name: string, cutAt: (request: Upload) => number, reached: (before: ImportJob[]) => Promise<unknown>][] = [
    [
      '(b) killed right after the closure part began: the import it started fails',
      'killed-at-part-start',
      (request) => request.start + 100,
      async (before) => void (await p.startedJob(before)),
    ],
    [
      '(c) killed mid-closure, while the daemon unpacks it: the import fails',
      'killed-mid-closure',
      (request) => request.start + Math.floor((request.end - request.start) / 2),
      () => waitFor('the import to unpack 2 MiB', async () => (await stagingBytes(env.daemon.storeDir)) >= 2 * MiB),
    ],
    [
      '(d) killed after every closure byte, before the message ended: the held-back last piece never reaches the import, which fails',
      'killed-before-boundary',
      (request) => request.end,
      async (before) => {
        // All but the last piece is unpacked, and the job waits for that piece: its log holds its header only.
        await waitFor('the import to unpack 7 MiB', async () => (await stagingBytes(env.daemon.storeDir)) >= 7 * MiB);
        expect((await p.startedJob(before)).log).toMatch(/^Importing: [^\n]*\n$/);
      },
    ],
  ];

  it.each(phases)('%s', async (_title, name, cutAt, reached) => {
    const before = await p.imports();
    const request = await closureUpload(name);
    const upload = await rawUpload(env.url, p.auth(), request.contentType, request.body.length);
    await upload.send(request.body.subarray(0, cutAt(request)));
    await reached(before);
    upload.socket.destroy();
    await p.expectFailed(before);
    await p.expectSettled();
    expect(p.inStore(request.entry)).toBe(false);
  });

  it('(f) a valid closure followed by an unknown argument: a Fault naming it, and the import fails', async () => {
    const before = await p.imports();
    const { closure, entry } = await closureOfNewPath('hostile-extra-part', randomBytes(2 * MiB));
    const answer = await post(
      env.url,
      p.auth(),
      mtomRequest('importLocalFile', [
        ['closure', closure],
        ['intruder', 'x'],
      ]),
    );
    // Read whole, but wrong: a Client Fault with HTTP 500, as for any call with wrong arguments.
    expect({ status: answer.status, fault: faultOf(answer) }).toEqual({ status: 500, fault: expect.stringMatching(/intruder/) });
    expect(answer.body.toString()).toMatch(/<faultcode>(\w+:)?Client<\/faultcode>/);
    // The Fault went once the import had failed.
    expect((await p.newJobs(before)).map((job) => job.log)).toEqual([expect.stringMatching(TRUNCATED_IMPORT)]);
    expect(p.inStore(entry)).toBe(false);
    await p.expectSettled();
  });

  it('(f) a valid closure followed by broken XML: a Fault saying so, and the import fails', async () => {
    const before = await p.imports();
    const { closure, entry } = await closureOfNewPath('hostile-broken-xml', randomBytes(2 * MiB));
    const { contentType, body } = inlineRequest('importLocalFile', [['closure', closure]]);
    const broken = Buffer.from(body.toString('latin1').replace('</ns:importLocalFile>', '</ns:importLocalFile><ns:oops></soapenv:Envelope>'), 'latin1');
    const answer = await post(env.url, p.auth(), { contentType, body: broken });
    expect(answer.status).toBe(400);
    expect(faultOf(answer)).toMatch(/not well-formed XML/);
    expect((await p.newJobs(before)).map((job) => job.log)).toEqual([expect.stringMatching(TRUNCATED_IMPORT)]);
    expect(p.inStore(entry)).toBe(false);
    await p.expectSettled();
  });

  it('(g) a complete, well-formed request whose closure is cut in the middle: HTTP 500 with the failed job log, store unchanged', async () => {
    const before = await p.imports();
    const { closure, entry } = await closureOfNewPath('truncated-closure', randomBytes(2 * MiB));
    const answer = await post(env.url, p.auth(), mtomRequest('importLocalFile', [['closure', closure.subarray(0, closure.length / 2)]]));
    expect(answer.status).toBe(500);
    expect(faultOf(answer)).toMatch(/is corrupt or truncated: .*; nothing imported/);
    expect(faultOf(answer)).toMatch(/doesn't look like something created by 'nix-store --export'/);
    expect((await p.newJobs(before)).map((job) => job.log)).toEqual([expect.stringMatching(TRUNCATED_IMPORT)]);
    expect(p.inStore(entry)).toBe(false);
    await p.expectSettled();
  });

  it('(i) MTOM whose attachment comes before its root part: received into a file, imported once whole', async () => {
    const before = await p.imports();
    const { closure, entry } = await closureOfNewPath('attachment-first', randomBytes(CLOSURE_CONTENT_BYTES));
    const { contentType, body } = attachmentFirst(closure);
    const upload = await rawUpload(env.url, p.auth(), contentType, body.length);
    const start = body.indexOf(closure.subarray(0, 64));
    await upload.send(body.subarray(0, start + closure.length / 2));
    // The operation is not known yet when the attachment starts: a plain file, and no job yet.
    const part = await waitFor('the part file to grow', async () => {
      const parts = await partsUnder(dirs.main);
      return parts.length === 1 && parts[0].size >= 2 * MiB && parts[0];
    });
    expect(part.isFile).toBe(true);
    expect(await p.newJobs(before)).toEqual([]);
    await upload.send(body.subarray(start + closure.length / 2));
    expect(statusOf(await upload.closed)).toBe(200);
    expect(p.inStore(entry)).toBe(true);
    expect((await p.newJobs(before)).map((job) => job.log)).toEqual([`Importing: ${part.path}\n${join(env.daemon.storeDir, entry)}\n`]);
    await p.expectSettled();
  });

  // A child process, so that its PATH can lack mkfifo: a gateway that cannot make a pipe.
  it('(i) a gateway that finds no mkfifo receives into a file and imports it once whole, saying why', async () => {
    const emptyPath = join(scratch, 'no-programs');
    await mkdir(emptyPath, { recursive: true });
    const uploadDir = join(scratch, 'uploads-no-fifo');
    await mkdir(uploadDir);
    const gateway = await startGatewayProcess(env.busAddress, ['--upload-dir', uploadDir], { PATH: emptyPath });
    try {
      const { closure, entry } = await closureOfNewPath('no-fifo', randomBytes(CLOSURE_CONTENT_BYTES));
      const { contentType, body } = mtomRequest('importLocalFile', [['closure', closure]], BOUNDARY);
      const upload = await rawUpload(gateway.url, CREDENTIALS, contentType, body.length);
      const half = body.indexOf(closure.subarray(0, 64)) + closure.length / 2;
      await upload.send(body.subarray(0, half));
      const part = await waitFor('the part file to grow', async () => {
        const parts = await partsUnder(uploadDir);
        return parts.length === 1 && parts[0].size >= 2 * MiB && parts[0];
      });
      expect(part.isFile).toBe(true);
      expect(await importJobsOn(env.daemon.logDir, uploadDir)).toEqual([]);
      await upload.send(body.subarray(half));
      expect(statusOf(await upload.closed)).toBe(200);
      expect(p.inStore(entry)).toBe(true);
      expect((await importJobsOn(env.daemon.logDir, uploadDir)).map((job) => job.log)).toEqual([
        `Importing: ${part.path}\n${join(env.daemon.storeDir, entry)}\n`,
      ]);
      await expectEmptySoon(uploadDir);
      expect(gateway.log()).toMatch(/cannot import a closure while it arrives.*ENOENT/);
    } finally {
      await gateway.stop();
    }
  });

  it('(j) at start-up, a gateway ends the wait of a reader blocked opening a pipe that a killed gateway left', async () => {
    const uploadDir = join(scratch, 'uploads-left-behind');
    const parts = join(uploadDir, 'disnix-upload-test', 'parts');
    await mkdir(parts, { recursive: true });
    const pipe = join(parts, '0');
    await run('mkfifo', [pipe]);
    // Blocks in open(2), as the daemon does on the pipe of a gateway killed before it opened it.
    const reader = spawn('cat', [pipe], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((resolve) => reader.once('exit', (code) => resolve(code)));
    try {
      await waitFor('cat to block opening the pipe', () => blockedInOpen(reader));
      const logger = recordingLogger();
      const command = parseCommandLine(['--host', '127.0.0.1', '--port', '0', '--bus-address', env.busAddress, '--upload-dir', uploadDir], {
        DISNIX_WEBSERVICE_USERNAME: env.username,
        DISNIX_WEBSERVICE_PASSWORD: env.password,
      });
      if (command.kind !== 'run') throw new Error('unexpected command line');
      const gateway = await startGateway(command.config, logger);
      try {
        expect(await waitFor('cat to exit', async () => (reader.exitCode === null ? undefined : { code: reader.exitCode }), 5000)).toEqual({ code: 0 });
        expect(logger.records).toContainEqual(expect.objectContaining({ level: 'warn', message: expect.stringMatching(/closure imports/), pipes: 1 }));
      } finally {
        await gateway.close();
      }
    } finally {
      reader.kill('SIGKILL');
      await exited;
    }
  });
});

describe('a client killed while its complete request is being imported (a slow daemon)', () => {
  const env = useGatewayEnvironment(() => ({ gatewayArgs: ['--upload-dir', dirs.slow], daemonArgs: ['--job-delay-ms', '1500'] }));
  const p = probes(env, () => dirs.slow);

  // The request was whole: the gateway commits it, and an import does not stop for a caller
  // that left (as with the file it was before), so the closure is imported.
  it('(e) the import goes on and succeeds; nothing is left, the daemon answers', async () => {
    const before = await p.imports();
    const request = await closureUpload('killed-after-request');
    const upload = await rawUpload(env.url, p.auth(), request.contentType, request.body.length);
    await upload.send(request.body);
    const job = await p.startedJob(before);
    expect(job.log).toMatch(/^Importing: [^\n]*\n$/); // still running (its delay, then the closure)
    upload.socket.destroy();
    const ended = await waitFor('the import to end', async () => {
      const [now] = (await p.newJobs(before)).filter((j) => j.pid === job.pid);
      return now.log !== job.log && now;
    });
    expect(ended.log.split('\n')).toContain(join(env.daemon.storeDir, request.entry));
    expect(p.inStore(request.entry)).toBe(true);
    await p.expectSettled();
  });
});

describe('--upload-stall-timeout', () => {
  const env = useGatewayEnvironment(() => ({ gatewayArgs: ['--upload-dir', dirs.stall, '--upload-stall-timeout', '1s'] }));
  const p = probes(env, () => dirs.stall);

  it('(h) a client that sends half the closure, then nothing, is cut off; the import fails', async () => {
    const before = await p.imports();
    const request = await closureUpload('stalled');
    const upload = await rawUpload(env.url, p.auth(), request.contentType, request.body.length);
    await upload.send(request.body.subarray(0, request.start + Math.floor((request.end - request.start) / 2)));
    await waitFor('the import to unpack 2 MiB', async () => (await stagingBytes(env.daemon.storeDir)) >= 2 * MiB);
    // The gateway ends the call by itself (bounded here, the socket would otherwise wait for ever).
    let timer: NodeJS.Timeout | undefined;
    const response = await Promise.race([upload.closed, new Promise<string>((resolve) => (timer = setTimeout(() => resolve('still open'), 10_000)))]);
    clearTimeout(timer);
    upload.socket.destroy();
    expect(response).not.toBe('still open');
    // Whatever the caller still gets (it may well be nothing): a Fault that says why.
    if (response !== '') expect(response).toMatch(/--upload-stall-timeout/);
    await p.expectFailed(before);
    await p.expectSettled();
    expect(p.inStore(request.entry)).toBe(false);
  });
});

describe('--upload-stall-timeout with a daemon slower than it', () => {
  const env = useGatewayEnvironment(() => ({
    gatewayArgs: ['--upload-dir', dirs.slowStall, '--upload-stall-timeout', '1s'],
    daemonArgs: ['--job-delay-ms', '2000'],
  }));
  const p = probes(env, () => dirs.slowStall);

  // The gateway stops reading while the import does not keep up: that is no stall of the caller.
  it('a caller that sent its whole request in one go is not cut off while the import catches up', async () => {
    const request = await closureUpload('slow-daemon');
    const upload = await rawUpload(env.url, p.auth(), request.contentType, request.body.length);
    await upload.send(request.body);
    const response = await upload.closed;
    expect(statusOf(response)).toBe(200);
    expect(p.inStore(request.entry)).toBe(true);
    await p.expectSettled();
  });
});

/** An MTOM request whose attachment comes first; the `start` parameter names the root part after it. */
function attachmentFirst(closure: Buffer): WireRequest {
  const { contentType, body } = mtomRequest('importLocalFile', [['closure', closure]], BOUNDARY);
  const delimiter = `\r\n--${BOUNDARY}`;
  const text = body.toString('latin1');
  const rootEnd = text.indexOf(delimiter);
  const closingAt = text.lastIndexOf(`${delimiter}--`);
  const root = text.slice(`--${BOUNDARY}\r\n`.length, rootEnd);
  const attachment = text.slice(rootEnd + delimiter.length + 2, closingAt);
  const reordered = `--${BOUNDARY}\r\n${attachment}${delimiter}\r\n${root}${delimiter}--\r\n`;
  return { contentType, body: Buffer.from(reordered, 'latin1') };
}

/** The entries of the upload areas' parts directories under `uploadDir`. */
async function partsUnder(uploadDir: string): Promise<{ path: string; size: number; isFile: boolean }[]> {
  const found: { path: string; size: number; isFile: boolean }[] = [];
  for (const area of await readdir(uploadDir).catch(() => [])) {
    const parts = join(uploadDir, area, 'parts');
    for (const name of await readdir(parts).catch(() => [])) {
      const info = await lstat(join(parts, name)).catch(() => undefined);
      if (info) found.push({ path: join(parts, name), size: info.size, isFile: info.isFile() });
    }
  }
  return found;
}

/** Whether the process is blocked in open(2) of a FIFO waiting for a writer (Linux). */
async function blockedInOpen(child: ChildProcess): Promise<boolean> {
  const wchan = await readFile(`/proc/${child.pid}/wchan`, 'utf8').catch(() => '');
  return wchan === 'wait_for_partner';
}
