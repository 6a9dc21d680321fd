import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DemoEnv } from './demo-layout';
import type { JobContext } from './demo-jobs';
import { JobError } from './demo-job-error';
import { readReferences, requisites, readStoreTree, registerPath, storeBasename } from './demo-store';
import { assertEntryName, type FsNode, hashTree } from './demo-tree';

/**
 * Closure files, the demo's `nix-store --export` format: JSON holding each store path of the
 * closure by entry name (so a closure moves between daemons with different state dirs), its
 * references, its whole tree (file contents in base64) and the tree's hash, checked on import.
 */
const FORMAT = 'disnix-demo-closure/1';
const CORRUPT = "error: input doesn't look like something created by 'nix-store --export'";

type StoredNode =
  | { type: 'file'; executable: boolean; base64: string }
  | { type: 'symlink'; target: string }
  | { type: 'directory'; entries: Record<string, StoredNode> };

interface ClosureEntry {
  name: string;
  references: string[];
  hash: string;
  tree: StoredNode;
}

export async function exportClosure(env: DemoEnv, job: JobContext, paths: readonly string[]): Promise<string> {
  const { layout } = env;
  const entries: ClosureEntry[] = [];
  for (const path of await requisites(layout, paths)) {
    const tree = await readStoreTree(layout, path);
    const references = (await readReferences(layout, path)).map((ref) => storeBasename(layout, ref) ?? ref);
    entries.push({ name: storeBasename(layout, path) ?? path, references, hash: hashTree(tree), tree: store(tree) });
  }
  const file = join(layout.tmpDir, `disnix-export-${job.pid}-${randomBytes(4).toString('hex')}.closure`);
  await writeFile(file, JSON.stringify({ format: FORMAT, paths: entries }));
  return file;
}

export async function importClosure(env: DemoEnv, job: JobContext, file: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'No such file or directory' : String(error);
    throw new JobError(`error: opening file '${file}': ${reason}`);
  }
  const entries = parseClosure(text);
  const imported: string[] = [];
  for (const entry of entries) {
    const references = entry.references.map((ref) => join(env.layout.storeDir, ref));
    const path = await registerPath(env.layout, entry.name, entry.tree, references);
    job.log(path);
    imported.push(path);
  }
  return imported;
}

function parseClosure(text: string): { name: string; references: string[]; tree: FsNode }[] {
  try {
    const closure = JSON.parse(text) as { format?: unknown; paths?: unknown };
    if (closure.format !== FORMAT || !Array.isArray(closure.paths)) throw new Error('not a closure');
    return (closure.paths as ClosureEntry[]).map((entry) => {
      if (typeof entry.name !== 'string' || !Array.isArray(entry.references)) throw new Error('bad entry');
      assertEntryName(entry.name);
      const tree = load(entry.tree);
      if (hashTree(tree) !== entry.hash) throw new Error(`hash mismatch in '${entry.name}'`);
      return { name: entry.name, references: entry.references.map(String), tree };
    });
  } catch {
    throw new JobError(CORRUPT);
  }
}

function store(node: FsNode): StoredNode {
  if (node.type === 'file') return { type: 'file', executable: node.executable, base64: node.data.toString('base64') };
  if (node.type === 'symlink') return { type: 'symlink', target: node.target };
  const entries: Record<string, StoredNode> = {};
  for (const [name, child] of Object.entries(node.entries)) entries[name] = store(child);
  return { type: 'directory', entries };
}

function load(node: StoredNode): FsNode {
  switch (node?.type) {
    case 'file':
      return { type: 'file', executable: node.executable === true, data: Buffer.from(String(node.base64), 'base64') };
    case 'symlink':
      return { type: 'symlink', target: String(node.target) };
    case 'directory': {
      const entries: Record<string, FsNode> = {};
      for (const [name, child] of Object.entries(node.entries)) {
        assertEntryName(name);
        entries[name] = load(child);
      }
      return { type: 'directory', entries };
    }
    default:
      throw new Error('bad node');
  }
}
