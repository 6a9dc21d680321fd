import { execFileSync } from 'node:child_process';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { demoLayout } from '../demo/demo-layout';
import * as store from '../demo/demo-store';
import type { DerivationSpec } from '../demo/demo-store';

/**
 * Seeding and inspecting a demo daemon's state directory from tests, through the demo's own
 * store code (the daemon may run meanwhile: store additions are atomic).
 */
export type { DerivationSpec };

/** Adds `<store>/<hash>-<name>.drv`; realising it creates the same path without `.drv`. */
export function addDerivation(stateDir: string, name: string, options: Omit<DerivationSpec, 'name'> = {}): Promise<string> {
  return store.addDerivation(demoLayout(stateDir), { name, ...options });
}

/** Adds a store path: a file (string or Buffer) or a directory (relative path -> content). */
export function addStorePath(
  stateDir: string,
  name: string,
  content: string | Buffer | Readonly<Record<string, string | Buffer>>,
  references: readonly string[] = [],
): Promise<string> {
  return store.addStorePath(demoLayout(stateDir), name, content, references);
}

/**
 * Adds a valid store path that `export` cannot write out (it holds a named pipe, which the demo's
 * export refuses): with the real daemon, an export that fails after print_invalid found its paths
 * valid (a full disk, an unreadable file) sends no signal either.
 */
export async function addUnexportableStorePath(stateDir: string, name: string): Promise<string> {
  const path = await store.addStorePath(demoLayout(stateDir), name, { 'readme.txt': 'next to a pipe\n' });
  await chmod(path, 0o755);
  execFileSync('mkfifo', [join(path, 'pipe')]);
  return path;
}

/**
 * Adds what `set` puts in a profile: a store directory holding a `manifest` file, whose text is
 * what query_installed then answers.
 */
export function addProfileManifest(stateDir: string, name: string, manifest: string): Promise<string> {
  return store.addStorePath(demoLayout(stateDir), name, { manifest });
}

/** The output path a derivation realises into. */
export function outputOf(drvPath: string): string {
  return drvPath.replace(/\.drv$/, '');
}

/** Writes files into the state of a component, as a running service would. */
export async function writeComponentState(stateDir: string, container: string, component: string, files: Readonly<Record<string, string>>): Promise<string> {
  const dir = join(demoLayout(stateDir).componentStateDir, container, component);
  for (const [relative, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, relative)), { recursive: true });
    await writeFile(join(dir, relative), content);
  }
  return dir;
}

/** The name Dysnomia gives the component of a store path: its name without the hash. */
export function componentOf(storePath: string): string {
  return storePath.slice(storePath.lastIndexOf('/') + 1).slice(33);
}

export function readJobLog(stateDir: string, pid: number): Promise<string> {
  return readFile(join(demoLayout(stateDir).logDir, String(pid)), 'utf8');
}
