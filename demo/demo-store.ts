import { createHash, randomBytes } from 'node:crypto';
import { lstat, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { DemoLayout } from './demo-layout';
import { JobError } from './demo-job-error';
import { type FsNode, hashTree, readTree, treeFromFiles, writeTree } from './demo-tree';

/**
 * The demo Nix store: `<store>/<32-char hash>-<name>` entries (a file or a directory). A path
 * is valid when it exists there. Its references (the store paths it needs, what
 * `query_requisites` and export follow and what keeps it alive during GC) are recorded in
 * `db/<hash>-<name>.json` as `{ "references": [basename, ...] }`, written before the path
 * appears. A derivation is a `.drv` file holding DerivationSpec JSON; its output is the same
 * path without `.drv`.
 */
export interface DerivationSpec {
  readonly name: string;
  /** How long the build takes, in milliseconds. */
  readonly buildMs?: number;
  /** Makes the build fail; the message is logged like a builder's output. */
  readonly fail?: string;
  /** Store paths (or derivations, built first) the output refers to. */
  readonly references?: readonly string[];
  /** The output's files (relative path -> text); by default a `bin/<name>` script. */
  readonly files?: Readonly<Record<string, string>>;
}

const NIX_BASE32 = '0123456789abcdfghijklmnpqrsvwxyz';
const BASENAME = /^[0123456789abcdfghijklmnpqrsvwxyz]{32}-[A-Za-z0-9+\-._?=]+$/;
const NAME = /^[A-Za-z0-9+\-_?=][A-Za-z0-9+\-._?=]*$/;

/** Nix's base-32 rendering of a hash (its own alphabet and digit order). */
export function nixBase32(bytes: Buffer): string {
  const length = Math.ceil((bytes.length * 8) / 5);
  let out = '';
  for (let n = length - 1; n >= 0; n--) {
    const bit = n * 5;
    const i = Math.floor(bit / 8);
    const j = bit % 8;
    const value = ((bytes[i] ?? 0) >> j) | (i + 1 < bytes.length ? (bytes[i + 1] ?? 0) << (8 - j) : 0);
    out += NIX_BASE32[value & 0x1f];
  }
  return out;
}

/** A deterministic store path: the same name and fingerprint always give the same path. */
export function makeStorePath(layout: DemoLayout, name: string, fingerprint: string): string {
  if (!NAME.test(name)) throw new JobError(`error: invalid store path name '${name}'`);
  const digest = createHash('sha256').update(`${fingerprint}:${name}`).digest().subarray(0, 20);
  return join(layout.storeDir, `${nixBase32(digest)}-${name}`);
}

/** The entry name of a path directly in this store, or undefined for anything else. */
export function storeBasename(layout: DemoLayout, path: string): string | undefined {
  const name = basename(path);
  return dirname(path) === layout.storeDir && BASENAME.test(name) ? name : undefined;
}

/** Like storeBasename, but a path outside the store is an error, worded as Nix words it. */
export function requireStorePath(layout: DemoLayout, path: string): string {
  const name = storeBasename(layout, path);
  if (name === undefined) throw new JobError(`error: path '${path}' is not in the Nix store`);
  return name;
}

export async function isValidPath(layout: DemoLayout, path: string): Promise<boolean> {
  const name = storeBasename(layout, path);
  if (name === undefined) return false;
  return lstat(join(layout.storeDir, name)).then(
    () => true,
    () => false,
  );
}

export async function requireValidPath(layout: DemoLayout, path: string): Promise<void> {
  requireStorePath(layout, path);
  if (!(await isValidPath(layout, path))) throw new JobError(`error: path '${path}' is not valid`);
}

export async function readReferences(layout: DemoLayout, path: string): Promise<string[]> {
  const name = requireStorePath(layout, path);
  try {
    const meta = JSON.parse(await readFile(join(layout.dbDir, `${name}.json`), 'utf8')) as { references?: unknown };
    const references = Array.isArray(meta.references) ? meta.references : [];
    return references.filter((ref): ref is string => typeof ref === 'string').map((ref) => join(layout.storeDir, ref));
  } catch {
    return [];
  }
}

/**
 * Adds a tree under the given entry name, atomically: it is either absent or complete. `tree`
 * may also be a function that writes the path's contents into the staging directory it is
 * given (which it creates), for contents too large to hold in memory.
 */
export async function registerPath(
  layout: DemoLayout,
  name: string,
  tree: FsNode | ((staging: string) => Promise<void>),
  references: readonly string[],
): Promise<string> {
  const path = join(layout.storeDir, name);
  if (!BASENAME.test(name)) throw new JobError(`error: invalid store path name '${name}'`);
  if (await isValidPath(layout, path)) return path;
  const refNames = references.map((ref) => requireStorePath(layout, ref));
  const staging = join(layout.tmpDir, `.staging-${randomBytes(6).toString('hex')}`);
  try {
    await (typeof tree === 'function' ? tree(staging) : writeTree(staging, tree));
    await writeFile(join(layout.dbDir, `${name}.json`), `${JSON.stringify({ references: refNames })}\n`);
    // A concurrent job may have added the same (content-addressed) path meanwhile; keep theirs.
    if (!(await isValidPath(layout, path))) await rename(staging, path);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  return path;
}

/** Adds a file (string or Buffer) or a directory (relative path -> content) to the store. */
export async function addStorePath(
  layout: DemoLayout,
  name: string,
  content: string | Buffer | Readonly<Record<string, string | Buffer>>,
  references: readonly string[] = [],
): Promise<string> {
  const tree: FsNode =
    typeof content === 'string' || Buffer.isBuffer(content) ? { type: 'file', executable: false, data: Buffer.from(content) } : treeFromFiles(content);
  const fingerprint = `source:${JSON.stringify(references)}:${hashTree(tree)}`;
  const path = makeStorePath(layout, name, fingerprint);
  return registerPath(layout, basename(path), tree, references);
}

export async function addDerivation(layout: DemoLayout, spec: DerivationSpec): Promise<string> {
  const text = `${JSON.stringify(spec, null, 2)}\n`;
  const path = makeStorePath(layout, `${spec.name}.drv`, `drv:${text}`);
  const file: FsNode = { type: 'file', executable: false, data: Buffer.from(text) };
  return registerPath(layout, basename(path), file, spec.references ?? []);
}

export async function readDerivation(layout: DemoLayout, drvPath: string): Promise<DerivationSpec> {
  await requireValidPath(layout, drvPath);
  try {
    const spec = JSON.parse(await readFile(drvPath, 'utf8')) as DerivationSpec;
    if (typeof spec.name !== 'string') throw new Error('no name');
    return spec;
  } catch {
    throw new JobError(`error: '${drvPath}' is not a valid derivation`);
  }
}

/** Every valid path, as absolute paths, in name order. */
export async function listStorePaths(layout: DemoLayout): Promise<string[]> {
  const names = await readdir(layout.storeDir);
  return names
    .filter((name) => BASENAME.test(name))
    .sort()
    .map((name) => join(layout.storeDir, name));
}

export async function deleteStorePath(layout: DemoLayout, path: string): Promise<void> {
  const name = requireStorePath(layout, path);
  await rm(path, { recursive: true, force: true });
  await rm(join(layout.dbDir, `${name}.json`), { force: true });
}

/**
 * The closure of valid paths (nix-store -qR): each path once, every path after the paths it
 * refers to.
 */
export async function requisites(layout: DemoLayout, paths: readonly string[]): Promise<string[]> {
  const seen = new Set<string>();
  const ordered: string[] = [];
  const visit = async (path: string): Promise<void> => {
    if (seen.has(path)) return;
    await requireValidPath(layout, path);
    seen.add(path);
    for (const reference of await readReferences(layout, path)) await visit(reference);
    ordered.push(path);
  };
  for (const path of paths) await visit(path);
  return ordered;
}

/** The given paths that are not valid; a path outside the store is an error, as in Nix. */
export async function invalidPaths(layout: DemoLayout, paths: readonly string[]): Promise<string[]> {
  const invalid: string[] = [];
  for (const path of paths) {
    if (storeBasename(layout, path) === undefined) {
      const exists = await lstat(path).then(
        () => true,
        () => false,
      );
      throw new JobError(exists ? `error: path '${path}' is not in the Nix store` : `error: getting status of '${path}': No such file or directory`);
    }
    if (!(await isValidPath(layout, path))) invalid.push(path);
  }
  return invalid;
}

/** What Nix says when asked to make valid a path it has no derivation for. */
export function cannotBuild(path: string, final = `error: build of '${path}' failed`): JobError {
  return new JobError(`don't know how to build these paths:\n  ${path}\n${final}`);
}

export async function readStoreTree(layout: DemoLayout, path: string): Promise<FsNode> {
  await requireValidPath(layout, path);
  return readTree(path);
}
