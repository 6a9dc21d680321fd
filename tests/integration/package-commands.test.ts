import { execFile } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from '../../testing/paths';

/**
 * The package's commands as the README's quick start runs them from a checkout: `npx <name>`
 * after `npm install` (which builds). tsc writes files without the execute bit, so the build
 * must set it, or npx refuses to run them.
 */
const root = PROJECT_ROOT;
const { bin, version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { bin: Record<string, string>; version: string };

describe.each(Object.entries(bin))('the command %s', (name, file) => {
  test('is an executable script of the build', () => {
    expect(() => accessSync(join(root, file), constants.X_OK)).not.toThrow();
    expect(readFileSync(join(root, file), 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });

  test('runs through npx from the checkout', async () => {
    // npx installs the checkout into its cache as a directory dependency, which runs its
    // `prepare` (a full rebuild, dist/ removed first) the first time: with scripts off, it runs
    // the build as it is instead of pulling it from under the test files running meanwhile.
    const env = { ...process.env, npm_config_ignore_scripts: 'true' };
    const { stdout } = await promisify(execFile)('npx', ['--no-install', name, '--version'], { cwd: root, env, timeout: 60_000 });
    expect(stdout).toContain(version);
  });
});
