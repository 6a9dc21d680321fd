/**
 * Closures through the gateway's transfer path, both ways and in both wire forms (MTOM and
 * inline base64), against the demo disnix-service on a private dbus-daemon; requests are built
 * by hand (tests/support/transfer-wire.ts). Also: what happens to cut-short and abandoned
 * uploads (nothing is imported, nothing is left in the upload directory).
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { type Socket, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, brotliDecompressSync, createGzip, gunzipSync, gzipSync } from 'node:zlib';
import { useGatewayEnvironment } from '../../testing/gateway-fixture';
import { expectEmptySoon } from '../../testing/upload-dir';
import {
  type ImportJob,
  PIPE_GONE_IMPORT,
  TRUNCATED_IMPORT,
  closureOfNewPath,
  importJobsOn,
  stagingBytes,
  stagingDirs,
  waitFor,
} from '../../testing/streamed-upload';
import { addStorePath, addUnexportableStorePath } from '../../testing/demo-store';
import { basicAuthHeader } from '../../testing/soap-test-client';
import { type WireAnswer, type WireRequest, faultOf, inlineRequest, mtomRequest, post, returnsOf, sha256 } from '../../testing/transfer-wire';

let uploadDir: string;
let stateDir: string;

beforeAll(async () => {
  uploadDir = await mkdtemp(join(tmpdir(), 'transfer-uploads-'));
}, 60_000);
const env = useGatewayEnvironment(() => ({ gatewayArgs: ['--upload-dir', uploadDir, '--job-timeout', 'exportRemoteFile=2s'] }));
beforeAll(() => {
  stateDir = env.daemon.stateDir;
});
afterAll(async () => {
  if (uploadDir) await rm(uploadDir, { recursive: true, force: true });
});

const auth = () => ({ username: env.username, password: env.password });
const call = (request: WireRequest, headers: Record<string, string> = {}) => post(env.url, auth(), request, headers);
const forms = { mtom: mtomRequest, inline: inlineRequest } as const;

/** Import jobs the daemon ran on paths of the upload directory. */
const uploadImports = () => importJobsOn(env.daemon.logDir, uploadDir);

/**
 * Jobs after the `before` ones: `count` of them, each failed: on its closure cut short, or, when
 * the request failed before the daemon got to open the pipe, on the pipe already gone.
 */
function expectFailedImports(now: readonly ImportJob[], before: readonly ImportJob[], count: number): void {
  const started = now.filter((job) => !before.some((old) => old.pid === job.pid));
  expect(started).toHaveLength(count);
  for (const job of started) expect([TRUNCATED_IMPORT, PIPE_GONE_IMPORT].some((failure) => failure.test(job.log)) ? 'failed' : job.log).toBe('failed');
}

/** After a caller left mid-upload: its import fails, the daemon's staging and the upload area go, the path is not in the store. */
async function expectImportEnded(before: readonly ImportJob[], entry: string): Promise<void> {
  await waitFor('the import to fail', async () =>
    (await uploadImports()).some((job) => !before.some((old) => old.pid === job.pid) && TRUNCATED_IMPORT.test(job.log)),
  );
  expectFailedImports(await uploadImports(), before, 1);
  await waitFor('the staging directory to go', async () => (await stagingDirs(env.daemon.storeDir)).length === 0);
  await expectEmptySoon(uploadDir);
  expect(existsSync(join(env.daemon.storeDir, entry))).toBe(false);
}

/** What the daemon's export jobs left in its TMPDIR: nothing, once the gateway has sent it. */
async function daemonFilesLeft(): Promise<string[]> {
  return (await readdir(env.daemon.tmpDir)).filter((name) => name.startsWith('disnix.'));
}

function expectOk(answer: WireAnswer): void {
  if (answer.status !== 200) throw new Error(`HTTP ${answer.status}: ${faultOf(answer) ?? answer.body.toString().slice(0, 300)}`);
}

describe('closure round trips: export, download, garbage-collect, upload, import', () => {
  const sizes = { empty: 0, small: 1000, large: 24 * 1024 * 1024 };
  it.each([
    ['mtom', 'empty'],
    ['mtom', 'small'],
    ['mtom', 'large'],
    ['inline', 'empty'],
    ['inline', 'small'],
    ['inline', 'large'],
  ] as const)(
    '%s, %s store file',
    async (form, size) => {
      const content = randomBytes(sizes[size]);
      const path = await addStorePath(stateDir, `roundtrip-${form}-${size}`, content);

      const download = await call(forms[form]('exportRemoteFile', [['derivation', path]]), form === 'mtom' ? { Accept: 'multipart/related, text/xml' } : {});
      expectOk(download);
      expect(download.contentType).toMatch(form === 'mtom' ? /^multipart\/related;.*type="application\/xop\+xml"/ : /^text\/xml/);
      expect(Number(download.headers['content-length'])).toBe(download.body.length);
      const [closure, ...more] = returnsOf(download, true) as Buffer[];
      expect(more).toEqual([]);
      expect(closure.length).toBeGreaterThan(sizes[size]);
      // The daemon leaves its closure file; the gateway removed it before the answer's last bytes.
      expect(await daemonFilesLeft()).toEqual([]);

      expectOk(await call(inlineRequest('collectGarbage', [['deleteOld', 'false']])));
      expect(existsSync(path)).toBe(false);

      const upload = await call(forms[form]('importLocalFile', [['closure', closure]]));
      expectOk(upload);
      expect(sha256(await readFile(path))).toBe(sha256(content));
      await expectEmptySoon(uploadDir);
    },
    120_000,
  );

  it('br-compressed MTOM is read too', async () => {
    const path = await addStorePath(stateDir, 'brotli', 'brotli on the wire');
    const download = await call(mtomRequest('exportRemoteFile', [['derivation', path]]));
    expectOk(download);
    const [closure] = returnsOf(download, true) as Buffer[];
    expectOk(await call(inlineRequest('collectGarbage', [['deleteOld', 'false']])));
    const { contentType, body } = mtomRequest('importLocalFile', [['closure', closure]]);
    expectOk(await call({ contentType, body: brotliCompressSync(body) }, { 'Content-Encoding': 'br' }));
    expect(await readFile(path, 'utf8')).toBe('brotli on the wire');
  });

  it('gzip-compressed MTOM, as the original Axis2 client sends, is read too', async () => {
    const path = await addStorePath(stateDir, 'gzipped', 'compressed on the wire');
    const download = await call(mtomRequest('exportRemoteFile', [['derivation', path]]));
    expectOk(download);
    expect(download.contentType).toMatch(/^multipart\/related/); // an MTOM request gets an MTOM answer
    const [closure] = returnsOf(download, true) as Buffer[];
    expectOk(await call(inlineRequest('collectGarbage', [['deleteOld', 'false']])));
    const { contentType, body } = mtomRequest('importLocalFile', [['closure', closure]]);
    expectOk(await call({ contentType, body: gzipSync(body) }, { 'Content-Encoding': 'gzip' }));
    expect(await readFile(path, 'utf8')).toBe('compressed on the wire');
  });
});

describe('compressed downloads: br or gzip only for a caller that asks for it', () => {
  const unpackers = { gzip: gunzipSync, br: brotliDecompressSync };
  it.each([
    ['mtom', 'gzip, deflate', 'gzip'],
    ['inline', 'gzip, deflate', 'gzip'],
    ['mtom', 'br, gzip', 'br'],
    ['inline', 'gzip;q=0.5, br;q=0.2', 'br'],
  ] as const)('%s with Accept-Encoding: %s: the same closure, streamed as %s, as it was without', async (form, asked, encoding) => {
    const content = randomBytes(3 * 1024 * 1024);
    const path = await addStorePath(stateDir, `${encoding}-download-${form}`, Buffer.concat([content, Buffer.alloc(2 * 1024 * 1024, 'text ')]));
    const request = forms[form]('exportRemoteFile', [['derivation', path]]);
    const accept: Record<string, string> = form === 'mtom' ? { Accept: 'multipart/related, text/xml' } : {};

    const plain = await call(request, accept);
    expectOk(plain);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(Number(plain.headers['content-length'])).toBe(plain.body.length);
    expect(plain.headers.vary).toBe('Accept-Encoding');

    const compressed = await call(request, { ...accept, 'Accept-Encoding': asked });
    expectOk(compressed);
    expect(compressed.headers['content-encoding']).toBe(encoding);
    expect(compressed.headers['content-length']).toBeUndefined();
    expect(compressed.headers['transfer-encoding']).toBe('chunked');
    expect(compressed.headers.vary).toBe('Accept-Encoding');
    expect(compressed.contentType.split(';')[0]).toBe(plain.contentType.split(';')[0]);
    const unpacked = unpackers[encoding](compressed.body);
    expect(compressed.body.length).toBeLessThan(unpacked.length);
    const [closure] = returnsOf({ ...compressed, body: unpacked }, true) as Buffer[];
    const [plainClosure] = returnsOf(plain, true) as Buffer[];
    expect(sha256(closure)).toBe(sha256(plainClosure));

    // Asked not to, the gateway does not.
    const refused = await call(request, { ...accept, 'Accept-Encoding': 'br;q=0, gzip;q=0, identity' });
    expect(refused.headers['content-encoding']).toBeUndefined();
    expect(Number(refused.headers['content-length'])).toBe(refused.body.length);
    expect(await daemonFilesLeft()).toEqual([]);
  });

  it('an answer without files stays as it was, with its Content-Length, even when gzip is asked for', async () => {
    const answer = await call(inlineRequest('collectGarbage', [['deleteOld', 'false']]), { 'Accept-Encoding': 'gzip' });
    expectOk(answer);
    expect(answer.headers['content-encoding']).toBeUndefined();
    expect(Number(answer.headers['content-length'])).toBe(answer.body.length);
    expect(answer.body.toString()).toMatch(/collectGarbageResponse/);
  });
});

describe('uploads that must not be imported', () => {
  it('an empty file reaches the daemon, which refuses it; the Fault carries its log', async () => {
    const answer = await call(mtomRequest('importLocalFile', [['closure', Buffer.alloc(0)]]));
    expect(answer.status).toBe(500);
    expect(faultOf(answer)).toMatch(/doesn't look like something created by 'nix-store --export'/);
    await expectEmptySoon(uploadDir);
  });

  // The closure streams into the daemon's import job as it arrives (server/operations/streamed-import.ts):
  // a body that ends short starts an import, which must then fail on its closure cut short.
  it('an MTOM body cut short inside the file part fails, and so does the import it started: nothing imported', async () => {
    const before = await uploadImports();
    const { closure, entry } = await closureOfNewPath('cut-mtom', randomBytes(512 * 1024));
    const { contentType, body } = mtomRequest('importLocalFile', [['closure', closure]]);
    const answer = await call({ contentType, body: body.subarray(0, body.length - 100_000) });
    expect(answer.status).toBe(400);
    expect(faultOf(answer)).toMatch(/ends before its closing boundary: it was cut short/);
    // The Fault goes once the import has failed: its log says so already.
    expectFailedImports(await uploadImports(), before, 1);
    expect(existsSync(join(env.daemon.storeDir, entry))).toBe(false);
    await expectEmptySoon(uploadDir);
  });

  it('an inline body cut short inside the base64 content fails, and so does the import it started: nothing imported', async () => {
    const before = await uploadImports();
    const { closure, entry } = await closureOfNewPath('cut-inline', randomBytes(256 * 1024));
    const { contentType, body } = inlineRequest('importLocalFile', [['closure', closure]]);
    const answer = await call({ contentType, body: body.subarray(0, 100_000) });
    expect(answer.status).toBe(400);
    expect(faultOf(answer)).toMatch(/not well-formed XML/);
    expectFailedImports(await uploadImports(), before, 1);
    expect(existsSync(join(env.daemon.storeDir, entry))).toBe(false);
    await expectEmptySoon(uploadDir);
  });

  it('a client that disconnects mid-upload, while the daemon imports, leaves no pipe behind and nothing imported', async () => {
    const before = await uploadImports();
    const { closure, entry } = await closureOfNewPath('hung-up', randomBytes(8 * 1024 * 1024));
    const { contentType, body } = mtomRequest('importLocalFile', [['closure', closure]]);
    const socket = await rawPost(contentType, body.length);
    socket.write(body.subarray(0, 3 * 1024 * 1024));
    // Mid-upload: the daemon's import has unpacked part of the closure already.
    await waitFor('the import to unpack 1 MiB', async () => (await stagingBytes(env.daemon.storeDir)) >= 1024 * 1024);
    socket.destroy();
    await expectImportEnded(before, entry);
  });

  it('a client that disconnects mid-way through a gzip-compressed upload leaves no pipe behind and nothing imported', async () => {
    const before = await uploadImports();
    const { closure, entry } = await closureOfNewPath('hung-up-gzip', randomBytes(8 * 1024 * 1024));
    const { contentType, body } = mtomRequest('importLocalFile', [['closure', closure]]);
    const socket = await rawPost(contentType, 'chunked', 'Content-Encoding: gzip\r\n');
    // The compressed body goes out chunked, as the client sends it, and stops after 3 MiB of it.
    const gzip = createGzip({ level: 1 });
    let sent = 0;
    gzip.on('data', (chunk: Buffer) => {
      if (sent >= 3 * 1024 * 1024) return;
      sent += chunk.length;
      socket.write(`${chunk.length.toString(16)}\r\n`);
      socket.write(chunk);
      socket.write('\r\n');
    });
    gzip.end(body);
    await waitFor('the import to unpack 1 MiB', async () => (await stagingBytes(env.daemon.storeDir)) >= 1024 * 1024);
    socket.destroy();
    gzip.destroy();
    await expectImportEnded(before, entry);
  });

  it('an xop:Include that points at no part is refused', async () => {
    const { contentType, body } = mtomRequest('importLocalFile', [['closure', Buffer.from('x')]]);
    const broken = Buffer.from(body.toString('latin1').replace('href="cid:0', 'href="cid:9'), 'latin1');
    const answer = await call({ contentType, body: broken });
    expect(answer.status).toBe(400);
    expect(faultOf(answer)).toMatch(/refers to cid:9\.attachment@test, which the message does not hold/);
    await expectEmptySoon(uploadDir);
  });

  it('base64 with characters outside its alphabet is refused', async () => {
    const { contentType, body } = inlineRequest('importLocalFile', [['closure', Buffer.from('abc')]]);
    const answer = await call({ contentType, body: Buffer.from(body.toString().replace('YWJj', 'YW*j')) });
    expect(answer.status).toBe(400);
    expect(faultOf(answer)).toMatch(/outside the base64 alphabet/);
  });
});

describe('the regular path is untouched', () => {
  it('an MTOM request of an operation without files is answered like a text/xml one', async () => {
    const answer = await call(mtomRequest('queryInstalled', [['profile', 'nothing-here']]));
    expectOk(answer);
    expect(answer.body.toString()).toMatch(/queryInstalledResponse/);
  });

  it('a gzip-compressed text/xml request of an operation without files is answered too', async () => {
    const { contentType, body } = inlineRequest('queryInstalled', [['profile', 'nothing-here']]);
    const answer = await call({ contentType, body: gzipSync(body) }, { 'Content-Encoding': 'gzip' });
    expectOk(answer);
    expect(answer.body.toString()).toMatch(/queryInstalledResponse/);
  });

  it('a gzip-compressed inline upload is read', async () => {
    const { contentType, body } = inlineRequest('importLocalFile', [['closure', Buffer.from('not a closure')]]);
    const answer = await call({ contentType, body: gzipSync(body) }, { 'Content-Encoding': 'gzip' });
    expect(faultOf(answer)).toMatch(/doesn't look like something created by 'nix-store --export'/);
  });

  it('a failed export job ends the download with a Fault', async () => {
    const path = await addUnexportableStorePath(stateDir, 'unexportable-download');
    const answer = await call(inlineRequest('exportRemoteFile', [['derivation', path]]));
    expect(answer.status).toBe(500);
    expect(faultOf(answer)).toMatch(/got no answer from disnix-service within 2s \(disnix-service sends no signal when export fails\)/);
    // The daemon's file of a failed export: its name never reached the gateway, which cannot remove it.
    for (const name of await daemonFilesLeft()) await rm(join(env.daemon.tmpDir, name));
  }, 30_000);

  it('a download of paths the target does not hold is refused at once, naming them', async () => {
    const missing = [`${env.daemon.storeDir}/00000000000000000000000000000000-gone`, `${env.daemon.storeDir}/11111111111111111111111111111111-gone`];
    const answer = await call(
      inlineRequest('exportRemoteFile', [
        ['derivation', missing[0]],
        ['derivation', missing[1]],
      ]),
    );
    expect(answer.status).toBe(500);
    expect(faultOf(answer)).toBe(`exportRemoteFile: these paths are not valid on the target, so nothing was exported: ${missing.join(', ')}`);
    // A path outside the store fails the check job itself, as print_invalid does: its log says why.
    const outside = await call(inlineRequest('exportRemoteFile', [['derivation', '/etc/passwd']]));
    expect(faultOf(outside)).toMatch(/error: path '\/etc\/passwd' is not in the Nix store/);
    expect(await daemonFilesLeft()).toEqual([]);
  });

  it('a caller that hangs up mid-download leaves no closure on the target', async () => {
    const path = await addStorePath(stateDir, 'abandoned-download', randomBytes(24 * 1024 * 1024));
    const { contentType, body } = inlineRequest('exportRemoteFile', [['derivation', path]]);
    const socket = await rawPost(contentType, body.length);
    socket.write(body);
    // Some of the answer has come: the closure file is on the target and being sent.
    await new Promise((resolve) => socket.once('data', resolve));
    socket.destroy();
    await expectNoneSoon(daemonFilesLeft);
  });
});

/** Waits (generously) until `list` answers nothing; the gateway cleans up once the call has ended. */
async function expectNoneSoon(list: () => Promise<string[]>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let left = await list();
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    left = await list();
  }
  expect(left).toEqual([]);
}

/** A POST of the service on a raw socket, its headers sent: the test writes (some of) the body itself, then hangs up. */
async function rawPost(contentType: string, contentLength: number | 'chunked', moreHeaders = ''): Promise<Socket> {
  const { port, pathname } = new URL(env.url);
  const socket = connect(Number(port), '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write(
    `POST ${pathname} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: ${contentType}\r\n` +
      `${contentLength === 'chunked' ? 'Transfer-Encoding: chunked' : `Content-Length: ${contentLength}`}\r\n${moreHeaders}` +
      `SOAPAction: ""\r\nAuthorization: ${basicAuthHeader(env.username, env.password)}\r\n\r\n`,
  );
  return socket;
}
