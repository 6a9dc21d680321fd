import { spawnSync } from 'node:child_process';
import { GATEWAY_MAIN } from '../../testing/paths';

/** The compiled command's start-up, as an operator runs it. */
const credentials = { DISNIX_WEBSERVICE_USERNAME: 'admin', DISNIX_WEBSERVICE_PASSWORD: 'pw' };

describe('the disnix-webservice command', () => {
  const main = GATEWAY_MAIN;
  test('a bad setting stops start-up with one line and exit status 2', () => {
    const result = spawnSync(process.execPath, [main, '--port', 'eighty'], { encoding: 'utf8', env: { ...process.env, ...credentials } });
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe('disnix-webservice: port "eighty" is not a TCP port number (0-65535)\n');
  });
  test('--help prints the usage', () => {
    const result = spawnSync(process.execPath, [main, '--help'], { encoding: 'utf8' });
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^Usage: disnix-webservice/);
  });
});
