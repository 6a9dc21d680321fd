import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { basicAuthorization } from '../../../soap-client/credentials';
import { ClientError } from '../../../soap-client/errors';

const T = new URL('http://gw.example:8080/DisnixWebService/services/DisnixWebService');
const basic = (pair: string) => `Basic ${Buffer.from(pair).toString('base64')}`;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'client-credentials-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

function refusal(url: URL, env: NodeJS.ProcessEnv): string {
  try {
    basicAuthorization(url, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ClientError);
    return (error as Error).message;
  }
  throw new Error('expected the credentials to be refused');
}

describe('basicAuthorization', () => {
  it('sends nothing when no credentials are given anywhere', () => {
    expect(basicAuthorization(T, {})).toBeUndefined();
  });

  it('takes DISNIX_SOAP_CLIENT_USERNAME and DISNIX_SOAP_CLIENT_PASSWORD', () => {
    expect(basicAuthorization(T, { DISNIX_SOAP_CLIENT_USERNAME: 'u', DISNIX_SOAP_CLIENT_PASSWORD: 'p:w' })).toBe(basic('u:p:w'));
  });

  it('takes the first line of DISNIX_SOAP_CLIENT_PASSWORD_FILE, without its line end', async () => {
    const file = join(dir, 'password');
    await writeFile(file, 'secret with spaces \r\nsecond line\n');
    expect(basicAuthorization(T, { DISNIX_SOAP_CLIENT_USERNAME: 'u', DISNIX_SOAP_CLIENT_PASSWORD_FILE: file })).toBe(basic('u:secret with spaces '));
    await writeFile(file, 'secret\n');
    expect(basicAuthorization(T, { DISNIX_SOAP_CLIENT_USERNAME: 'u', DISNIX_SOAP_CLIENT_PASSWORD_FILE: file })).toBe(basic('u:secret'));
  });

  it('names the password file and says in plain words why it cannot be read', async () => {
    const missing = join(dir, 'no-such-file');
    expect(refusal(T, { DISNIX_SOAP_CLIENT_PASSWORD_FILE: missing })).toBe(
      `cannot read the password file ${missing} (DISNIX_SOAP_CLIENT_PASSWORD_FILE): it does not exist`,
    );
    expect(refusal(T, { DISNIX_SOAP_CLIENT_PASSWORD_FILE: dir })).toBe(
      `cannot read the password file ${dir} (DISNIX_SOAP_CLIENT_PASSWORD_FILE): it is a directory, not a file`,
    );
    const empty = join(dir, 'empty');
    await writeFile(empty, '\n');
    expect(refusal(T, { DISNIX_SOAP_CLIENT_PASSWORD_FILE: empty })).toMatch(/the password file .*empty \(DISNIX_SOAP_CLIENT_PASSWORD_FILE\) is empty/);
  });

  it('refuses a password given both in the variable and in a file', async () => {
    const file = join(dir, 'password-both');
    await writeFile(file, 'a\n');
    expect(refusal(T, { DISNIX_SOAP_CLIENT_PASSWORD: 'b', DISNIX_SOAP_CLIENT_PASSWORD_FILE: file })).toMatch(
      /both DISNIX_SOAP_CLIENT_PASSWORD and DISNIX_SOAP_CLIENT_PASSWORD_FILE are set/,
    );
  });

  it('takes credentials from the target URL, percent-decoded', () => {
    const url = new URL('http://admin:p%40ss%3Aword@gw.example:8080/DisnixWebService/services/DisnixWebService');
    expect(basicAuthorization(url, {})).toBe(basic('admin:p@ss:word'));
  });

  it('lets each variable override its part of the URL', async () => {
    const url = new URL('http://admin:from-url@gw.example/x');
    expect(basicAuthorization(url, { DISNIX_SOAP_CLIENT_PASSWORD: 'from-env' })).toBe(basic('admin:from-env'));
    expect(basicAuthorization(url, { DISNIX_SOAP_CLIENT_USERNAME: 'other' })).toBe(basic('other:from-url'));
    const file = join(dir, 'password-url');
    await writeFile(file, 'from-file\n');
    expect(basicAuthorization(new URL('http://admin@gw.example/x'), { DISNIX_SOAP_CLIENT_PASSWORD_FILE: file })).toBe(basic('admin:from-file'));
  });
});
