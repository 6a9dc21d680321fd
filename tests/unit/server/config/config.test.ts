import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GatewayConfig } from '../../../../server/config/config';
import { optionSpecs } from '../../../../server/config/options';
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
