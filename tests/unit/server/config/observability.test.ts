import { ConfigError, type GatewayConfig, parseCommandLine } from '../../../../server/config/config';

/** The logging and metrics settings: --log-format and --metrics-listen, with their variables. */
const credentials = { DISNIX_WEBSERVICE_USERNAME: 'admin', DISNIX_WEBSERVICE_PASSWORD: 'pw' };

function run(argv: string[], env: NodeJS.ProcessEnv = credentials): GatewayConfig {
  const command = parseCommandLine(argv, env);
  if (command.kind !== 'run') throw new Error(`expected a run, got ${command.kind}`);
  return command.config;
}

function problems(argv: string[]): readonly string[] {
  try {
    run(argv);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

test('defaults: the log format follows the terminal, /metrics sits behind the service auth', () => {
  const config = run([]);
  expect(config.logFormat).toBe('auto');
  expect(config.metricsListen).toBeUndefined();
});

test('--log-format takes json or text, from the flag or DISNIX_WEBSERVICE_LOG_FORMAT', () => {
  expect(run(['--log-format', 'json']).logFormat).toBe('json');
  expect(run([], { ...credentials, DISNIX_WEBSERVICE_LOG_FORMAT: 'text' }).logFormat).toBe('text');
  expect(run(['--log-format=json'], { ...credentials, DISNIX_WEBSERVICE_LOG_FORMAT: 'text' }).logFormat).toBe('json');
  expect(problems(['--log-format', 'xml'])).toEqual(['log-format "xml" is not one of json, text, auto']);
});

test('--metrics-listen takes HOST:PORT, IPv6 in brackets, from the flag or DISNIX_WEBSERVICE_METRICS_LISTEN', () => {
  expect(run(['--metrics-listen', '127.0.0.1:9464']).metricsListen).toEqual({ host: '127.0.0.1', port: 9464 });
  expect(run(['--metrics-listen', '[::1]:9464']).metricsListen).toEqual({ host: '::1', port: 9464 });
  expect(run([], { ...credentials, DISNIX_WEBSERVICE_METRICS_LISTEN: 'metrics.internal:9100' }).metricsListen).toEqual({
    host: 'metrics.internal',
    port: 9100,
  });
  for (const bad of ['9464', '127.0.0.1', '127.0.0.1:99999', '::1:9464', 'host :1', ':9464']) {
    expect(problems(['--metrics-listen', bad])).toEqual([`metrics-listen "${bad}" is not HOST:PORT, e.g. 127.0.0.1:9464 or [::1]:9464`]);
  }
});
