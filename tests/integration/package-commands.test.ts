import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from '../../testing/paths';

/**
 * The package's commands as the README's quick start runs them from a checkout: `npx <name>`
 * after `npm install` (which builds). tsc writes files without the execute bit, so the build
 * must set it, or npx refuses to run them.
 */
const root = PROJECT_ROOT;
const run = promisify(execFile);
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
    const { stdout } = await run('npx', ['--no-install', name, '--version'], { cwd: root, env, timeout: 60_000 });
    expect(stdout).toContain(version);
  });
});

/**
 * The packed tarball as an operator installs it (`npm install -g ./disnix-webservice-*.tgz`):
 * it holds only what runs (no sources, tests, demo or bench), installs without the
 * devDependencies, and both commands start from the installed copy. `--ignore-scripts`: the
 * tarball is packed from the build this run already made (packing runs `prepare`, a rebuild,
 * which would pull dist/ from under the other test files).
 */
describe('the packed package', () => {
  let work: string;
  let tarball: string;
  let packed: string[] = [];
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'disnix-pack-'));
    const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: root, timeout: 120_000 });
    const [{ filename, files }] = JSON.parse(stdout) as [{ filename: string; files: { path: string }[] }];
    tarball = join(work, filename);
    packed = files.map((file) => file.path);
  }, 180_000);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  test('holds the runtime build, the WSDL, the man pages, the proxy configurations, README and LICENSE, and nothing of the sources, tests, demo or bench', () => {
    for (const file of [
      'LICENSE',
      'README.md',
      'package.json',
      'wsdl/DisnixWebService.wsdl',
      'dist/server/main.js',
      'dist/soap-client/main.js',
      'dist/wsdl/DisnixWebService.wsdl',
      'dist/man/disnix-soap-client.1',
      'dist/man/disnix-webservice.8',
    ]) {
      expect(packed).toContain(file);
    }
    expect(packed.some((file) => file.startsWith('proxy-config/systemd/'))).toBe(true);
    expect(
      packed.filter((file) => /^(server|soap-client|protocol|demo|testing|tests|bench|scripts|dist-dev)\//.test(file) || /\.ts$|\.map$/.test(file)),
    ).toEqual([]);
  });

  test('installs into a fresh prefix without devDependencies, and both commands run from there', async () => {
    const prefix = join(work, 'prefix');
    await run('npm', ['install', '--global', '--prefix', prefix, '--no-audit', '--no-fund', tarball], { cwd: work, timeout: 240_000 });
    const installed = join(prefix, 'lib', 'node_modules', 'disnix-webservice');
    expect(existsSync(join(installed, 'node_modules', 'jest'))).toBe(false);
    expect(existsSync(join(installed, 'node_modules', 'soap'))).toBe(false);
    for (const name of Object.keys(bin)) {
      const { stdout } = await run(join(prefix, 'bin', name), ['--version'], { cwd: work, timeout: 60_000 });
      expect(stdout).toContain(version);
    }
  }, 300_000);
});
