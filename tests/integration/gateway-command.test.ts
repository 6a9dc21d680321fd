import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { GATEWAY_MAIN, PROJECT_ROOT } from '../../testing/paths';

/** The compiled command's start-up, as an operator runs it. */
const credentials = { DISNIX_WEBSERVICE_USERNAME: 'admin', DISNIX_WEBSERVICE_PASSWORD: 'pw' };
/** No bus behind it: the gateway starts without one (it says so) and still answers WSDL requests. */
const NO_BUS = 'unix:path=/nonexistent/disnix-webservice-test-bus';

describe('the disnix-webservice command', () => {
  const main = GATEWAY_MAIN;
  const runGateway = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH, ...credentials, ...env } });

  test('a bad setting stops start-up with one line and exit status 2', () => {
    const result = runGateway(['--port', 'eighty']);
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe('disnix-webservice: port "eighty" is not a TCP port number (0-65535)\n');
  });
  test('--help and -h print the usage, wrapped to 80 columns', () => {
    for (const flag of ['--help', '-h']) {
      const result = runGateway([flag]);
      expect(result.status).toBe(0);
      expect(result.stdout).toMatch(/^Usage: disnix-webservice/);
      expect(result.stdout.split('\n').filter((line) => line.length > 80)).toEqual([]);
    }
  });
  test('--version and -V print the version', () => {
    const { version } = JSON.parse(readFileSync(`${PROJECT_ROOT}/package.json`, 'utf8')) as { version: string };
    for (const flag of ['--version', '-V'])
      expect(runGateway([flag])).toEqual(expect.objectContaining({ status: 0, stdout: `disnix-webservice ${version}\n` }));
  });
  test('a yes/no variable with another value stops start-up with one line and exit status 2', () => {
    const result = runGateway(['--host', '127.0.0.1', '--port', '0', '--bus-address', NO_BUS], { DISNIX_WEBSERVICE_NO_AUTH: 'banana' });
    expect(result.status).toBe(2);
    expect(result.stderr).toBe('disnix-webservice: DISNIX_WEBSERVICE_NO_AUTH="banana" is not a yes/no value: use true or false (also 1/0, yes/no, on/off)\n');
  });
  test('the older variable name conflicting with the new one stops start-up with one line and exit status 2', () => {
    const result = runGateway(['--bus-address', NO_BUS], { DISNIX_WEBSERVICE_JOB_TIMEOUT: '1h', DISNIX_WEBSERVICE_JOB_TIMEOUTS: '2h' });
    expect(result.status).toBe(2);
    expect(result.stderr).toBe(
      'disnix-webservice: DISNIX_WEBSERVICE_JOB_TIMEOUT and DISNIX_WEBSERVICE_JOB_TIMEOUTS (its older name) are both set, to different values: keep DISNIX_WEBSERVICE_JOB_TIMEOUT only\n',
    );
  });
});

/**
 * What the listening address covers, as --help and the start-up line say: the default 0.0.0.0
 * takes IPv4 only; :: takes IPv6 and IPv4. Checked over the loopbacks of both families.
 */
describe('the listening address', () => {
  const started: ChildProcess[] = [];
  /** Machines (containers) without an IPv6 loopback can check the IPv4 half only. */
  let ipv6 = false;
  beforeAll(async () => {
    const probe = createServer();
    ipv6 = await new Promise<boolean>((resolve) => probe.once('error', () => resolve(false)).listen(0, '::1', () => resolve(true)));
    probe.close();
  });
  afterEach(() => {
    for (const child of started.splice(0)) child.kill('SIGKILL');
  });

  /** Starts the gateway with --port 0 and the given host flags; answers its port and its listening line. */
  async function listen(hostArgs: string[]): Promise<{ port: number; line: { listens: string } }> {
    const child = spawn(process.execPath, [GATEWAY_MAIN, ...hostArgs, '--port', '0', '--bus-address', NO_BUS, '--log-format', 'json'], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { PATH: process.env.PATH, ...credentials },
    });
    started.push(child);
    let log = '';
    return new Promise((resolve, reject) => {
      child.stderr!.on('data', (chunk: Buffer) => {
        log += chunk.toString();
        const text = log.split('\n').find((line) => line.includes('listening on'));
        if (text) {
          const line = JSON.parse(text) as { message: string; listens: string };
          resolve({ port: Number(/:(\d+)\//.exec(line.message)![1]), line });
        }
      });
      child.once('exit', (code) => reject(new Error(`the gateway exited (${code}):\n${log}`)));
    });
  }

  /** The HTTP status of a WSDL request over that address, or the connection error's code. */
  function answerOver(host: string, port: number): Promise<number | string> {
    return new Promise((resolve) => {
      const auth = `${credentials.DISNIX_WEBSERVICE_USERNAME}:${credentials.DISNIX_WEBSERVICE_PASSWORD}`;
      request({ host, port, path: '/DisnixWebService/services/DisnixWebService?wsdl', auth, agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
        .on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message))
        .end();
    });
  }

  test('the default, 0.0.0.0, takes every IPv4 address and no IPv6 one, and says so', async () => {
    const { port, line } = await listen([]);
    expect(line.listens).toBe(`every IPv4 address of this machine, port ${port}; no IPv6 (--host :: takes both)`);
    expect(await answerOver('127.0.0.1', port)).toBe(200);
    if (ipv6) expect(await answerOver('::1', port)).toBe('ECONNREFUSED');
  });

  test(':: takes IPv6 and IPv4 alike, and says so', async () => {
    if (!ipv6) return;
    const { port, line } = await listen(['--host', '::']);
    expect(line.listens).toBe(`every IPv6 and every IPv4 address of this machine, port ${port}`);
    expect(await answerOver('::1', port)).toBe(200);
    expect(await answerOver('127.0.0.1', port)).toBe(200);
  });

  test('--help says the same of both', () => {
    const help = spawnSync(process.execPath, [GATEWAY_MAIN, '--help'], { encoding: 'utf8' }).stdout.replace(/\n\s+/g, ' ');
    expect(help).toContain('(default: 0.0.0.0, every IPv4 address of this machine and no IPv6 one); :: takes every IPv6 and every IPv4 address');
  });
});
