import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type GatewayConfig, parseCommandLine } from '../../../../server/config/config';
import { type OptionSpec, optionSpecs } from '../../../../server/config/options';
import { usageText } from '../../../../server/config/usage';
import { configFrom, configProblems } from '../../../../testing/config-helpers';

const credentials = { DISNIX_WEBSERVICE_USERNAME: 'admin', DISNIX_WEBSERVICE_PASSWORD: 'pw' };

const run = (argv: string[], env: NodeJS.ProcessEnv = credentials): GatewayConfig => configFrom(argv, env);
const problems = (argv: string[], env: NodeJS.ProcessEnv = credentials): readonly string[] => configProblems(argv, env);

test('defaults: port 8080 on every interface, the original endpoint path, the system bus', () => {
  const config = run([]);
  expect(config).toMatchObject({ port: 8080, host: '0.0.0.0', servicePath: '/DisnixWebService/services/DisnixWebService', logLevel: 'info' });
  expect(config.bus).toEqual({ kind: 'system', address: 'unix:path=/var/run/dbus/system_bus_socket' });
  expect(config.auth).toEqual({ mode: 'users', users: { admin: 'pw' } });
  expect(config.jobTimeouts.realise).toBe(12 * 3_600_000);
  expect(config.jobTimeouts.captureConfig).toBe(10 * 60_000);
  expect(Object.isFrozen(config)).toBe(true);
});

test('environment variables set what flags do, and flags win', () => {
  const env = { ...credentials, DISNIX_WEBSERVICE_PORT: '9000', DISNIX_WEBSERVICE_HOST: '127.0.0.1', DISNIX_WEBSERVICE_BUS_ADDRESS: 'unix:path=/tmp/b' };
  expect(run([], env)).toMatchObject({ port: 9000, host: '127.0.0.1', bus: { kind: 'address', address: 'unix:path=/tmp/b' } });
  expect(run(['--port=9001', '--bus-address', 'unix:path=/tmp/c'], env)).toMatchObject({ port: 9001, bus: { address: 'unix:path=/tmp/c' } });
});

test('--session-bus takes DBUS_SESSION_BUS_ADDRESS', () => {
  expect(run(['--session-bus'], { ...credentials, DBUS_SESSION_BUS_ADDRESS: 'unix:path=/run/s' }).bus).toEqual({
    kind: 'session',
    address: 'unix:path=/run/s',
  });
  expect(problems(['--session-bus'])).toEqual(['--session-bus: DBUS_SESSION_BUS_ADDRESS is not set']);
});

test('job time limits: general, per operation, later entries win, mistakes named', () => {
  const config = run(['--job-timeout', '2h', '--job-timeout', 'realise=3d,export=90s']);
  expect(config.jobTimeouts).toMatchObject({ lock: 7_200_000, realise: 3 * 86_400_000, export: 90_000 });
  expect(problems(['--job-timeout', 'realize=1h', '--job-timeout', 'soon'])).toEqual([
    expect.stringMatching(/"realize" is not an operation/),
    expect.stringMatching(/"soon" is not a duration/),
  ]);
});

test('every problem is reported at once', () => {
  expect(problems(['--port', 'http', '--log-level', 'loud', '--max-body-size', 'huge'], {})).toEqual([
    'port "http" is not a TCP port number (0-65535)',
    expect.stringMatching(/^no credentials: set DISNIX_WEBSERVICE_USERNAME and DISNIX_WEBSERVICE_PASSWORD/),
    'max-body-size "huge" is not a size such as 512k or 16m',
    'log-level "loud" is not one of error, warn, info, debug',
  ]);
});

test('running without credentials needs --no-auth, and then a loopback address', () => {
  expect(problems([], {})[0]).toMatch(/no credentials/);
  expect(problems(['--no-auth'], {})[0]).toMatch(/--no-auth on 0\.0\.0\.0 would let anyone on the network deploy/);
  expect(run(['--no-auth', '--host', '127.0.0.1'], {}).auth).toEqual({ mode: 'none' });
  expect(run(['--no-auth', '--allow-remote-no-auth'], {}).auth).toEqual({ mode: 'none' });
});

test('the password can come from a file, never from a flag', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'pw-')), 'password');
  writeFileSync(file, 'from-file\nignored\n');
  expect(run(['--username', 'ops', '--password-file', file], {}).auth).toEqual({ mode: 'users', users: { ops: 'from-file' } });
  expect(problems(['--password', 'x'])[0]).toMatch(/Unknown option '--password'/);
});

test('--help documents every flag and environment variable', () => {
  const help = usageText();
  for (const spec of Object.values(optionSpecs)) {
    if (spec.flag) expect(help).toContain(`--${spec.flag}`);
    if ('env' in spec) expect(help).toContain(spec.env);
  }
});

test('-h and -V are --help and --version', () => {
  expect(parseCommandLine(['-h'], {})).toEqual({ kind: 'help' });
  expect(parseCommandLine(['-V'], {})).toEqual({ kind: 'version' });
});

test('--help fits 80 columns, as the client does', () => {
  const lines = usageText().split('\n');
  expect(lines.filter((line) => line.length > 80)).toEqual([]);
  expect(lines).toContain('  -h, --help                  show this help and exit.');
  expect(lines).toContain('  -V, --version               show the version and exit.');
});

test("every variable is named after its flag: DISNIX_WEBSERVICE_ and the flag's words", () => {
  for (const spec of Object.values(optionSpecs) as OptionSpec[]) {
    if (spec.flag && spec.env) expect(spec.env).toBe(`DISNIX_WEBSERVICE_${spec.flag.toUpperCase().replaceAll('-', '_')}`);
  }
});

describe('variables renamed to match their flags; the older names still work', () => {
  const renamed: [string, string, string, (config: GatewayConfig) => unknown, unknown][] = [
    ['DISNIX_WEBSERVICE_LISTEN_SOCKET', 'DISNIX_WEBSERVICE_SOCKET', '/run/dw/gw.sock', (c) => c.socket?.path, '/run/dw/gw.sock'],
    ['DISNIX_WEBSERVICE_JOB_TIMEOUT', 'DISNIX_WEBSERVICE_JOB_TIMEOUTS', 'lock=5m', (c) => c.jobTimeouts.lock, 300_000],
  ];
  test.each(renamed)('%s, or the older %s', (name, older, value, read, expected) => {
    expect(read(run([], { ...credentials, [name]: value }))).toEqual(expected);
    expect(read(run([], { ...credentials, [older]: value }))).toEqual(expected);
    // The same value under both names, as during a migration, is no conflict.
    expect(read(run([], { ...credentials, [name]: value, [older]: value }))).toEqual(expected);
  });

  test('both names with different values: refused, naming both and which to keep', () => {
    expect(problems([], { ...credentials, DISNIX_WEBSERVICE_LISTEN_SOCKET: '/run/a.sock', DISNIX_WEBSERVICE_SOCKET: '/run/b.sock' })).toEqual([
      'DISNIX_WEBSERVICE_LISTEN_SOCKET and DISNIX_WEBSERVICE_SOCKET (its older name) are both set, to different values: keep DISNIX_WEBSERVICE_LISTEN_SOCKET only',
    ]);
  });

  test('--help names the new variable first and the older one as an alias', () => {
    const help = usageText().replace(/\n\s+/g, ' ');
    expect(help).toContain('Variable: DISNIX_WEBSERVICE_LISTEN_SOCKET. Also read under its older name DISNIX_WEBSERVICE_SOCKET.');
    expect(help).toContain('Variable: DISNIX_WEBSERVICE_JOB_TIMEOUT. Also read under its older name DISNIX_WEBSERVICE_JOB_TIMEOUTS.');
  });
});

describe('yes/no variables', () => {
  const host = { ...credentials, DISNIX_WEBSERVICE_HOST: '127.0.0.1' };
  test.each(['true', 'TRUE', '1', 'yes', 'Yes', 'on'])('%s means yes', (value) => {
    expect(run([], { ...host, DISNIX_WEBSERVICE_NO_AUTH: value }).auth).toEqual({ mode: 'none' });
  });
  test.each(['false', 'False', '0', 'no', 'off'])('%s means no', (value) => {
    expect(run([], { ...host, DISNIX_WEBSERVICE_NO_AUTH: value }).auth.mode).toBe('users');
  });
  test('anything else stops the start, naming the variable and the values it takes', () => {
    expect(problems([], { ...host, DISNIX_WEBSERVICE_NO_AUTH: 'banana' })).toEqual([
      'DISNIX_WEBSERVICE_NO_AUTH="banana" is not a yes/no value: use true or false (also 1/0, yes/no, on/off)',
    ]);
    expect(problems([], { ...host, DISNIX_WEBSERVICE_SESSION_BUS: 'ture' })).toEqual([expect.stringMatching(/^DISNIX_WEBSERVICE_SESSION_BUS="ture" is not/)]);
  });
  test('a flag given on the command line wins, and its variable is not read', () => {
    expect(run(['--no-auth'], { ...host, DISNIX_WEBSERVICE_NO_AUTH: 'banana' }).auth).toEqual({ mode: 'none' });
  });
});
