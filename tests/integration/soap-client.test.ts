/**
 * disnix-soap-client as the coordinator runs it: the compiled client in a child process, with
 * the argv shapes of reference section 3, against the real gateway and the demo disnix-service
 * on a private dbus-daemon. Needs `npx tsc -p tsconfig.json` first (npm test does it).
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, request as httpRequest, type IncomingHttpHeaders, type RequestListener } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_SERVICE_PATH } from '../../protocol/operations';
import { useGatewayEnvironment } from '../../testing/gateway-fixture';
import { type ClientRun, assertClientBuilt, runClient } from '../../testing/run-client';
import { addDerivation, addStorePath, componentOf, outputOf, writeComponentState } from '../../testing/demo-store';

const SOAP_NS = 'http://schemas.xmlsoap.org/soap/envelope/';
const DISNIX_NS = 'http://service.disnix.nixos.org';

/** A self-signed certificate for 127.0.0.1 and localhost, valid 2000-2100, for the https tests only. */
const TEST_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgDsvdsZtGp0duDJ+d
5A/7LwMfJHyCoFcz16Pz3qFoKO2hRANCAAR3O7HRMMekrPTCv21xDP1pZ6Kx0BXl
bisGSU1MA7qGJxg4ioD3zGDerpsZygHsaVyOVmgaasgZPmW4aCf3N/xs
-----END PRIVATE KEY-----
`;
const TEST_CERTIFICATE = `-----BEGIN CERTIFICATE-----
MIIBgzCCASmgAwIBAgIBATAKBggqhkjOPQQDAjAiMSAwHgYDVQQDDBdkaXNuaXgt
c29hcC1jbGllbnQgdGVzdDAgFw0wMDAxMDEwMDAwMDBaGA8yMTAwMDEwMTAwMDAw
MFowIjEgMB4GA1UEAwwXZGlzbml4LXNvYXAtY2xpZW50IHRlc3QwWTATBgcqhkjO
PQIBBggqhkjOPQMBBwNCAAR3O7HRMMekrPTCv21xDP1pZ6Kx0BXlbisGSU1MA7qG
Jxg4ioD3zGDerpsZygHsaVyOVmgaasgZPmW4aCf3N/xso04wTDAPBgNVHRMBAf8E
BTADAQH/MBoGA1UdEQQTMBGHBH8AAAGCCWxvY2FsaG9zdDAdBgNVHQ4EFgQUL1/s
GkNNaNIGzzuJqAxRYl6rs/8wCgYIKoZIzj0EAwIDSAAwRQIgUzWkoINyHPN4sPeH
czmsAYvHBjQcWI+eaB14NJ4igK8CIQDD2GlG+WHczPHpBRIIfanP7NUCHuWfuryt
1p0i8qvzHA==
-----END CERTIFICATE-----
`;

type Run = Pick<ClientRun, 'code' | 'stdout' | 'stderr'>;

const gw = useGatewayEnvironment();
let url: string;
let stateDir: string;
let workDir: string;

beforeAll(async () => {
  assertClientBuilt();
  url = gw.url;
  stateDir = gw.daemon.stateDir;
  workDir = await mkdtemp(join(tmpdir(), 'soap-client-test-'));
}, 60_000);

afterAll(async () => {
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

/**
 * Runs the client asynchronously (the gateway lives in this process) with a clean environment:
 * only PATH and the credentials, unless `env` says otherwise.
 */
function client(args: readonly string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  return runClient(args, { DISNIX_SOAP_CLIENT_USERNAME: gw.username, DISNIX_SOAP_CLIENT_PASSWORD: gw.password, ...env });
}

function expectSuccess(run: Run, stdout: string): void {
  expect({ code: run.code, stderr: run.stderr, stdout: run.stdout }).toEqual({ code: 0, stderr: '', stdout });
}

/** Exit 1, nothing on stdout, a short message on stderr without a stack trace. */
function expectFailure(run: Run, stderr: RegExp): void {
  expect({ code: run.code, stdout: run.stdout }).toEqual({ code: 1, stdout: '' });
  expect(run.stderr).toMatch(stderr);
  expect(run.stderr).not.toMatch(/^\s+at /m);
}

async function realised(name: string, options: Parameters<typeof addDerivation>[2] = {}): Promise<string> {
  const drv = await addDerivation(stateDir, name, options);
  expectSuccess(await client(['--realise', '--target', url, drv]), `${outputOf(drv)}\n`);
  return outputOf(drv);
}

/** The job logs of the daemon that contain the given text. */
async function logsContaining(text: string): Promise<string[]> {
  const logDir = gw.daemon.logDir;
  const logs = await Promise.all((await readdir(logDir)).map((name) => readFile(join(logDir, name), 'utf8')));
  return logs.filter((log) => log.includes(text));
}

describe('package operations', () => {
  it('--realise DRV prints the output path; -r and --target=URL are the same', async () => {
    const drv = await addDerivation(stateDir, 'realise-one');
    expectSuccess(await client(['--realise', '--target', url, drv]), `${outputOf(drv)}\n`);
    expectSuccess(await client(['-r', `--target=${url}`, drv]), `${outputOf(drv)}\n`);
    expectSuccess(await client([drv, '-t', url, '-r']), `${outputOf(drv)}\n`);
  });

  it('--realise of several derivations prints one output per line', async () => {
    const a = await addDerivation(stateDir, 'realise-a');
    const b = await addDerivation(stateDir, 'realise-b');
    expectSuccess(await client(['--realise', '--target', url, a, b]), `${outputOf(a)}\n${outputOf(b)}\n`);
  });

  it('a failing build prints the build log on stderr', async () => {
    const drv = await addDerivation(stateDir, 'realise-broken', { fail: 'main.c:3:1: error: expected declaration' });
    expectFailure(await client(['--realise', '--target', url, drv]), /main\.c:3:1: error: expected declaration/);
  });

  it('--set, then --query-installed, with --profile, -p and $DISNIX_PROFILE', async () => {
    const path = await realised('profile-service');
    expectSuccess(await client(['--target', url, '--profile', 'integration', '--set', path]), '');
    expectSuccess(await client(['--target', url, '--profile', 'integration', '--query-installed']), `${path}\n`);
    expectSuccess(await client(['-t', url, '-q', '-p', 'integration']), `${path}\n`);
    expectSuccess(await client(['-t', url, '-q'], { DISNIX_PROFILE: 'integration' }), `${path}\n`);
    expectSuccess(await client(['-t', url, '--query-installed', '--profile=integration'], { DISNIX_PROFILE: 'other' }), `${path}\n`);
  });

  it('--set without --profile sets the profile "default"', async () => {
    const path = await realised('default-profile-service');
    expectSuccess(await client(['--target', url, '--set', path]), '');
    expectSuccess(await client(['--target', url, '--profile', 'default', '--query-installed']), `${path}\n`);
  });

  it('--query-installed of an unknown profile prints one empty line, as disnix-client does', async () => {
    expectSuccess(await client(['--target', url, '--profile', 'never-set', '--query-installed']), '\n');
  });

  it('--query-requisites prints the closure, one path per line', async () => {
    const config = await addStorePath(stateDir, 'requisites-config', 'port=8080\n');
    const library = await addStorePath(stateDir, 'requisites-lib', { 'lib/libx.so': 'ELF' });
    const service = await addStorePath(stateDir, 'requisites-service', 'run\n', [library, config]);
    const run = await client(['--query-requisites', '--target', url, service]);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout.endsWith('\n')).toBe(true);
    expect(run.stdout.slice(0, -1).split('\n').sort()).toEqual([config, library, service].sort());
  });

  it('--print-invalid prints only the paths the target lacks', async () => {
    const valid = await addStorePath(stateDir, 'valid-path', 'here\n');
    const missing = join(gw.daemon.storeDir, `${'0'.repeat(32)}-missing-path`);
    const alsoMissing = join(gw.daemon.storeDir, `${'1'.repeat(32)}-missing-too`);
    expectSuccess(await client(['--target', url, '--print-invalid', valid, missing, alsoMissing]), `${missing}\n${alsoMissing}\n`);
    expectSuccess(await client(['--target', url, '--print-invalid', valid]), '');
  });

  it('--export --localfile prints the closure file on the target; --import --remotefile imports it', async () => {
    const path = await realised('exported-service');
    const exported = await client(['--target', url, '--export', '--localfile', path]);
    expect(exported.code).toBe(0);
    expect(exported.stderr).toBe('');
    expect(exported.stdout).toMatch(/^\/.+\n$/);
    const closureFile = exported.stdout.trimEnd();
    expect(existsSync(closureFile)).toBe(true);

    // Nothing refers to the output: garbage collection removes it, the import brings it back.
    expectSuccess(await client(['--target', url, '--collect-garbage']), '');
    expectSuccess(await client(['--target', url, '--print-invalid', path]), `${path}\n`);
    expectSuccess(await client(['--import', '--target', url, '--remotefile', closureFile]), '');
    expectSuccess(await client(['--target', url, '--print-invalid', path]), '');
  });

  it('--import --remotefile of a missing file fails with the Nix error', async () => {
    expectFailure(
      await client(['--import', '--remotefile', '--target', url, '/nonexistent/closure']),
      /opening file '\/nonexistent\/closure': No such file or directory/,
    );
  });

  it('--collect-garbage and --collect-garbage -d remove unreferenced paths', async () => {
    const garbage = await addStorePath(stateDir, 'garbage', 'nobody needs me\n');
    expectSuccess(await client(['--target', url, '--collect-garbage']), '');
    expect(existsSync(garbage)).toBe(false);
    const more = await addStorePath(stateDir, 'more-garbage', 'nor me\n');
    expectSuccess(await client(['--target', url, '--collect-garbage', '-d']), '');
    expect(existsSync(more)).toBe(false);
    expect(await logsContaining(`deleting '${more}'`)).toHaveLength(1);
  });
});

describe('Dysnomia operations', () => {
  it('--activate passes container, type and every --arguments; --deactivate undoes it', async () => {
    const path = await realised('activated-service');
    const component = componentOf(path);
    const marker = join(stateDir, 'active', 'web', component);
    expectSuccess(
      await client(['--activate', '--target', url, '--container', 'web', '--type', 'process', '--arguments', 'port=8080', '--arguments', 'user=www', path]),
      '',
    );
    expect(await readFile(marker, 'utf8')).toBe(`${path}\n`);
    expect(await logsContaining(`activate: ${path} of type: process in container: web with arguments: port=8080 user=www `)).toHaveLength(1);

    expectSuccess(await client(['--deactivate', `--target=${url}`, '--container=web', '--type=process', path]), '');
    expect(existsSync(marker)).toBe(false);
  });

  it('--activate without --container uses the type as the container', async () => {
    const path = await realised('typed-service');
    expectSuccess(await client(['--activate', '--target', url, '--type', 'echo', path]), '');
    expect(existsSync(join(stateDir, 'active', 'echo', componentOf(path)))).toBe(true);
  });

  it('an unknown module type and a failing module print the job log', async () => {
    const path = await realised('failing-service');
    expectFailure(await client(['--activate', '--target', url, '--type', 'nosuchmodule', path]), /Module: nosuchmodule cannot be found!/);
    expectFailure(await client(['--deactivate', '--target', url, '--type', 'process', '--arguments', 'fail=port 8080 is busy', path]), /port 8080 is busy/);
  });

  it('--snapshot, --query-*-snapshots, --delete-state, --restore, --clean-snapshots', async () => {
    const path = await realised('stateful-service');
    const component = componentOf(path);
    const dysnomia = (flag: string) => client([`--${flag}`, '--target', url, '--container', 'db', '--type', 'process', path]);
    expectSuccess(await dysnomia('activate'), '');
    const stateFile = join(await writeComponentState(stateDir, 'db', component, { 'data.txt': 'generation 1\n' }), 'data.txt');

    expectSuccess(await dysnomia('snapshot'), '');
    const all = await client(['--target', url, '--query-all-snapshots', '--container', 'db', '--component', component]);
    expect(all.code).toBe(0);
    expect(all.stdout).toMatch(new RegExp(`^db/${component}/[^/\\n]+\\n$`));
    const first = all.stdout.trimEnd();
    expectSuccess(await client(['--target', url, '--query-latest-snapshot', '-C', 'db', '-c', component]), `${first}\n`);

    await writeFile(stateFile, 'generation 2\n');
    expectSuccess(await dysnomia('snapshot'), '');
    const latest = await client(['--target', url, '--query-latest-snapshot', '--container=db', `--component=${component}`]);
    expect(latest.stdout).not.toBe(`${first}\n`);
    const second = latest.stdout.trimEnd();
    expectSuccess(await client(['--target', url, '--query-all-snapshots', '--container', 'db', '--component', component]), `${first}\n${second}\n`);
    // Without --container and --component the query covers every component.
    const everything = await client(['--target', url, '--query-all-snapshots']);
    expect(everything.stdout.split('\n')).toEqual(expect.arrayContaining([first, second]));

    expectSuccess(await dysnomia('delete-state'), '');
    expect(existsSync(stateFile)).toBe(false);
    expectSuccess(await dysnomia('restore'), '');
    expect(await readFile(stateFile, 'utf8')).toBe('generation 2\n');

    expectSuccess(await client(['--target', url, '--clean-snapshots', '--keep', '1', '--container', 'db', '--component', component]), '');
    expectSuccess(await client(['--target', url, '--query-all-snapshots', '-C', 'db', '-c', component]), `${second}\n`);
    // --keep 0 keeps no generation, as Dysnomia does over SSH.
    expectSuccess(await client(['--target', url, '--clean-snapshots', '--keep', '0', '--container', 'db', '--component', component]), '');
    expectSuccess(await client(['--target', url, '--query-all-snapshots', '-C', 'db', '-c', component]), '');
  });

  it('--clean-snapshots keeps one generation by default, of every component', async () => {
    const dir = join(workDir, 'clean-default');
    for (const name of ['old', 'new']) {
      await mkdir(join(dir, name), { recursive: true });
      await writeFile(join(dir, name, 'dump.sql'), `-- ${name}\n`);
      expectSuccess(await client(['--target', url, '--import-snapshots', '--remotefile', '--container', 'pg', '--component', 'cleaned', join(dir, name)]), '');
    }
    expectSuccess(await client(['--target', url, '--query-all-snapshots', '-C', 'pg', '-c', 'cleaned']), 'pg/cleaned/old\npg/cleaned/new\n');
    expectSuccess(await client(['--target', url, '--clean-snapshots']), '');
    expectSuccess(await client(['--target', url, '--query-all-snapshots', '-C', 'pg', '-c', 'cleaned']), 'pg/cleaned/new\n');
  });

  it('--import-snapshots --remotefile moves directories on the target into the snapshot store', async () => {
    const first = join(workDir, 'import', 'snap-a');
    const second = join(workDir, 'import', 'snap-b');
    for (const dir of [first, second]) {
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'state'), dir);
    }
    expectSuccess(await client(['--target', url, '--import-snapshots', '--remotefile', '--container', 'mysql', '--component', 'shop', first, second]), '');
    expect(existsSync(first)).toBe(false);
    expectSuccess(await client(['--target', url, '--query-latest-snapshot', '--container', 'mysql', '--component', 'shop']), 'mysql/shop/snap-b\n');
    expectSuccess(
      await client(['--target', url, '--print-missing-snapshots', 'mysql/shop/snap-a', 'mysql/shop/snap-z', 'mysql/shop/snap-b']),
      'mysql/shop/snap-z\n',
    );
    expectSuccess(
      await client(['--target', url, '--resolve-snapshots', 'mysql/shop/snap-a', 'mysql/shop/snap-b']),
      `${join(stateDir, 'snapshots', 'mysql', 'shop', 'snap-a')}\n${join(stateDir, 'snapshots', 'mysql', 'shop', 'snap-b')}\n`,
    );
  });

  it('--capture-config prints the Nix expression as it is', async () => {
    const run = await client(['--capture-config', '--target', url]);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/^\{\n {2}properties = \{\n[\s\S]*\n {2}containers = \{\n[\s\S]*\n\}\n$/);
    expect(run.stdout).toContain(`    "hostname" = ${JSON.stringify(hostname())};\n`);
    expect(run.stdout).toContain('    supervisord-program = {\n      "supervisordTargetDir" = "/etc/supervisor/conf.d";\n    };\n');
  });
});

describe('locks and Faults', () => {
  it('--lock and --unlock; a second --lock and a second --unlock fail with the job log', async () => {
    const lock = ['--lock', '--target', url, '--profile', 'locked'];
    const unlock = ['--unlock', '--target', url, '--profile', 'locked'];
    expectSuccess(await client(lock), '');
    expectFailure(await client(lock), /Cannot exclusively open the lock file!/);
    expectSuccess(await client(unlock), '');
    expectFailure(await client(unlock), /There is no lock file!/);
  });

  it('--unlock of a profile that is not locked: the job log on stderr, exit 1, empty stdout', async () => {
    const run = await client(['--unlock', '--target', url, '--profile', 'never-locked']);
    expectFailure(run, /There is no lock file!/);
    expect(run.stderr.trim().split('\n').length).toBeLessThanOrEqual(3);
  });
});

describe('connection errors', () => {
  it('names the environment variables when the gateway refuses the credentials (401), or none are set', async () => {
    expectFailure(
      await client(['--target', url, '--lock'], { DISNIX_SOAP_CLIENT_PASSWORD: 'wrong' }),
      /refused the credentials \(HTTP 401[\s\S]*DISNIX_SOAP_CLIENT_USERNAME and DISNIX_SOAP_CLIENT_PASSWORD/,
    );
    expectFailure(
      await client(['--target', url, '--lock'], { DISNIX_SOAP_CLIENT_USERNAME: undefined, DISNIX_SOAP_CLIENT_PASSWORD: undefined }),
      /asks for credentials \(HTTP 401 Unauthorized\) and none are set\nSet DISNIX_SOAP_CLIENT_USERNAME and DISNIX_SOAP_CLIENT_PASSWORD/,
    );
  });

  it('says the endpoint path looks wrong on a 404 and shows the usual one', async () => {
    const wrong = new URL('/DisnixWebService/services/Wrong', url).href;
    const run = await client(['--target', wrong, '-q']);
    expectFailure(run, /no service at \/DisnixWebService\/services\/Wrong \(HTTP 404 Not Found\): the endpoint path looks wrong/);
    expect(run.stderr).toContain(new URL(DEFAULT_SERVICE_PATH, url).href);
  });

  it('names host:port and the system error when nothing listens', async () => {
    const port = await unusedPort();
    expectFailure(
      await client(['--target', `http://127.0.0.1:${port}${DEFAULT_SERVICE_PATH}`, '--lock']),
      new RegExp(`cannot reach the gateway at 127\\.0\\.0\\.1:${port}: .*\\(ECONNREFUSED\\)`),
    );
  });
});

describe('transport', () => {
  it('sends a SOAP 1.1 POST with SOAPAction "" and basic credentials', async () => {
    let seen: { method?: string; headers: IncomingHttpHeaders; body: string } | undefined;
    const stub = await startStub((request, response) => {
      let body = '';
      request.setEncoding('utf8');
      request.on('data', (chunk: string) => (body += chunk));
      request.on('end', () => {
        seen = { method: request.method, headers: request.headers, body };
        response.writeHead(200, { 'Content-Type': 'text/xml; charset=utf-8' });
        response.end(`<e:Envelope xmlns:e="${SOAP_NS}"><e:Body><d:lockResponse xmlns:d="${DISNIX_NS}"/></e:Body></e:Envelope>`);
      });
    });
    try {
      expectSuccess(
        await client(['--lock', '--target', stub.url, '--profile', 'a&b'], { DISNIX_SOAP_CLIENT_USERNAME: 'u', DISNIX_SOAP_CLIENT_PASSWORD: 'p:w' }),
        '',
      );
    } finally {
      await stub.close();
    }
    expect(seen?.method).toBe('POST');
    expect(seen?.headers).toMatchObject({
      'content-type': 'text/xml; charset=utf-8',
      soapaction: '""',
      authorization: `Basic ${Buffer.from('u:p:w').toString('base64')}`,
    });
    expect(seen?.body).toBe(
      `<soapenv:Envelope xmlns:soapenv="${SOAP_NS}"><soapenv:Body><ns:lock xmlns:ns="${DISNIX_NS}">` +
        '<ns:profile>a&amp;b</ns:profile></ns:lock></soapenv:Body></soapenv:Envelope>',
    );
  });

  it('talks to https:// targets; an untrusted certificate is named until NODE_EXTRA_CA_CERTS trusts it', async () => {
    // A TLS-terminating reverse proxy in front of the gateway, as a production setup has.
    const gateway = new URL(url);
    const proxy = await startStub((request, response) => {
      const upstream = httpRequest(gateway, { method: request.method, headers: request.headers }, (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      });
      request.pipe(upstream);
    }, true);
    const caFile = join(workDir, 'test-ca.pem');
    await writeFile(caFile, TEST_CERTIFICATE);
    const target = `https://127.0.0.1:${new URL(proxy.url).port}${gateway.pathname}`;
    try {
      expectFailure(
        await client(['--lock', '--target', target, '--profile', 'tls']),
        /cannot connect to the gateway at 127\.0\.0\.1:\d+: its TLS certificate is not trusted \(\w+\)\n.*NODE_EXTRA_CA_CERTS/,
      );
      expectSuccess(await client(['--lock', '--target', target, '--profile', 'tls'], { NODE_EXTRA_CA_CERTS: caFile }), '');
      expectFailure(
        await client(['--lock', '--target', target, '--profile', 'tls'], { NODE_EXTRA_CA_CERTS: caFile }),
        /Cannot exclusively open the lock file!/,
      );
      expectSuccess(await client(['--unlock', '--target', target, '--profile', 'tls'], { NODE_EXTRA_CA_CERTS: caFile }), '');
    } finally {
      await proxy.close();
    }
  });

  it.each<[string, RequestListener, RegExp]>([
    [
      'an HTML page',
      (_request, response) => {
        response.writeHead(200, { 'Content-Type': 'text/html' });
        response.end('<html><body><h1>Welcome to nginx!</h1></body></html>');
      },
      /HTTP 200, text\/html\) is not a SOAP response: the document is <html>, not a SOAP Envelope\nIt starts with: <html><body><h1>Welcome to nginx!/,
    ],
    [
      'a proxy error',
      (_request, response) => {
        response.writeHead(502, 'Bad Gateway', { 'Content-Type': 'text/html' });
        response.end('<html><body>502 Bad Gateway</body></html>');
      },
      /answered HTTP 502 Bad Gateway instead of a SOAP response/,
    ],
    [
      'a redirect',
      (_request, response) => {
        response.writeHead(301, 'Moved Permanently', { Location: 'https://elsewhere.example/DisnixWebService/services/DisnixWebService' });
        response.end();
      },
      /HTTP 301 Moved Permanently.*https:\/\/elsewhere\.example\/DisnixWebService\/services\/DisnixWebService, use that URL/,
    ],
    [
      'a connection closed mid-answer',
      (_request, response) => {
        response.writeHead(200, { 'Content-Type': 'text/xml' });
        response.write(`<e:Envelope xmlns:e="${SOAP_NS}"><e:Body><d:realiseResponse xmlns:d="${DISNIX_NS}"><d:return>/nix/store/`);
        setTimeout(() => response.socket?.destroy(), 50);
      },
      /connection to the gateway at 127\.0\.0\.1:\d+ failed: .*\(ECONNRESET\)/,
    ],
  ])('explains %s and prints nothing on stdout', async (_name, handler, message) => {
    const stub = await startStub(handler);
    try {
      const run = await client(['--realise', '--target', stub.url, '/nix/store/x.drv']);
      expectFailure(run, message);
      expect(run.stderr.trim().split('\n').length).toBeLessThanOrEqual(2);
    } finally {
      await stub.close();
    }
  });
});

describe('the command line contract', () => {
  it('--shell is refused with an explanation', async () => {
    const run = await client(['--shell', '--target', url, '--container', 'web', '--type', 'process', '--command', 'ls', '/nix/store/x']);
    expectFailure(run, /--shell cannot travel over the SOAP API: disnix-service has no D-Bus method for it; use disnix-ssh-client for shell sessions/);
  });

  it.each([
    [[], /no operation given/],
    [['--lock'], /no target given/],
    [['--target', 'URL', '--lock', '--frobnicate'], /unknown option --frobnicate/],
    [['--target', 'URL', '--clean-snapshots', '--keep', 'many'], /--keep needs a whole number/],
    [['--target', 'URL', '--lock', '--unlock'], /exactly one operation/],
    [['--target', 'URL', '--import', '/tmp/closure'], /--import needs --localfile or --remotefile/],
  ])('usage error %j: exit 1 and a pointer to --help', async (args, message) => {
    const run = await client((args as string[]).map((arg) => (arg === 'URL' ? url : arg)));
    expectFailure(run, message as RegExp);
    expect(run.stderr).toContain("Try 'disnix-soap-client --help'");
  });

  it('--help and --version print on stdout and exit 0', async () => {
    const help = await client(['--help']);
    expect(help).toMatchObject({ code: 0, stderr: '' });
    expect(help.stdout).toMatch(/^Usage: disnix-soap-client --target URL OPERATION/);
    expect(help.stdout).toContain('--capture-config');
    const version = await client(['-v']);
    expect(version).toMatchObject({ code: 0, stderr: '' });
    expect(version.stdout).toMatch(/^disnix-soap-client \(disnix-webservice \d+\.\d+\.\d+\)\n$/);
  });
});

function unusedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** A throwaway HTTP(S) server on a free loopback port, standing in for what may answer instead of a gateway. */
async function startStub(handler: RequestListener, tls = false): Promise<{ url: string; close(): Promise<void> }> {
  const server = tls ? createHttpsServer({ key: TEST_KEY, cert: TEST_CERTIFICATE }, handler) : createHttpServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('no address');
  return {
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${address.port}${DEFAULT_SERVICE_PATH}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
