import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { getOperation, operationNames } from '../../protocol/operations';
import { optionSpecs } from '../../server/config/options';
import { generalOptions, valueOptions } from '../../soap-client/cli';
import { PROJECT_ROOT } from '../../testing/paths';

const run = promisify(execFile);
const { man } = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { man: string[] };

/** A man page as `man -l` shows it, plain text, one long line per paragraph where possible. */
async function rendered(page: string): Promise<string> {
  const { stdout, stderr } = await run('man', ['-l', join(PROJECT_ROOT, page)], {
    env: { ...process.env, MANWIDTH: '200', MANPAGER: 'cat', PAGER: 'cat' },
    timeout: 30_000,
  });
  expect(stderr).toBe('');
  return stdout;
}

test("package.json's man lists both pages, built by npm run build", () => {
  expect(man).toEqual(['./dist/man/disnix-soap-client.1', './dist/man/disnix-webservice.8']);
});

test('disnix-soap-client(1) renders and lists every operation, option and variable of the client', async () => {
  const text = await rendered(man[0]);
  expect(text).toMatch(/^DISNIX-SOAP-CLIENT\(1\)/);
  expect(text).toMatch(/^NAME\n\s+disnix-soap-client - /m);
  for (const name of operationNames) {
    const cli = getOperation(name).cli;
    if (cli) expect(text).toContain(`--${cli.flag}`);
  }
  for (const spec of [...Object.values(valueOptions), ...generalOptions]) expect(text).toContain(`--${spec.flag}`);
  for (const variable of ['DISNIX_SOAP_CLIENT_USERNAME', 'DISNIX_SOAP_CLIENT_PASSWORD', 'DISNIX_SOAP_CLIENT_PASSWORD_FILE', 'DISNIX_PROFILE'])
    expect(text).toContain(variable);
});

test('disnix-webservice(8) renders and lists every flag and variable of the gateway', async () => {
  const text = await rendered(man[1]);
  expect(text).toMatch(/^DISNIX-WEBSERVICE\(8\)/);
  expect(text).toMatch(/^SIGNALS$/m);
  for (const spec of Object.values(optionSpecs)) {
    if (spec.flag !== '') expect(text).toContain(`--${spec.flag}`);
    if ('env' in spec) expect(text).toContain(spec.env);
  }
});
