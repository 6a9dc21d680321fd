import { createHash, type Hash } from 'node:crypto';
import { chmod, lstat, mkdir, readdir, readFile, readlink, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';

/**
 * A file-system tree held as data. Store paths, closure files and snapshots are all such trees;
 * holding them as data makes a closure file a faithful copy (content, executable bit, symlinks)
 * and gives every tree a content hash.
 */
export type FsNode =
  | { readonly type: 'file'; readonly executable: boolean; readonly data: Buffer }
  | { readonly type: 'symlink'; readonly target: string }
  | { readonly type: 'directory'; readonly entries: Readonly<Record<string, FsNode>> };

export async function readTree(path: string): Promise<FsNode> {
  const stat = await lstat(path);
  if (stat.isSymbolicLink()) return { type: 'symlink', target: await readlink(path) };
  if (stat.isDirectory()) {
    const entries: Record<string, FsNode> = {};
    for (const name of (await readdir(path)).sort()) entries[name] = await readTree(join(path, name));
    return { type: 'directory', entries };
  }
  if (stat.isFile()) return { type: 'file', executable: (stat.mode & 0o111) !== 0, data: await readFile(path) };
  throw new Error(`unsupported file type at '${path}'`);
}

/**
 * Creates the tree at `path`, which must not exist yet. Store contents are read-only, as in
 * Nix; `writable` is for component state put back by a restore.
 */
export async function writeTree(path: string, node: FsNode, writable = false): Promise<void> {
  switch (node.type) {
    case 'file':
      await writeFile(path, node.data, { flag: 'wx' });
      await chmod(path, (node.executable ? 0o555 : 0o444) | (writable ? 0o200 : 0));
      return;
    case 'symlink':
      await symlink(node.target, path);
      return;
    case 'directory':
      await mkdir(path);
      for (const [name, child] of Object.entries(node.entries)) {
        assertEntryName(name);
        await writeTree(join(path, name), child, writable);
      }
  }
}

/** A file entry name that cannot escape its directory (closure files come from elsewhere). */
export function assertEntryName(name: string): void {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
    throw new Error(`invalid file name '${name}'`);
  }
}

/** A directory tree from relative file paths and their contents. */
export function treeFromFiles(files: Readonly<Record<string, string | Buffer>>, executable = false): FsNode {
  const root: Record<string, FsNode> = {};
  for (const [relative, content] of Object.entries(files)) {
    const parts = posix
      .normalize(relative)
      .split('/')
      .filter((part) => part !== '');
    parts.forEach(assertEntryName);
    let dir = root;
    for (const part of parts.slice(0, -1)) {
      const existing = dir[part];
      const next: Record<string, FsNode> = existing?.type === 'directory' ? { ...existing.entries } : {};
      dir[part] = { type: 'directory', entries: next };
      dir = next;
    }
    const data = typeof content === 'string' ? Buffer.from(content) : content;
    dir[parts[parts.length - 1] ?? 'file'] = { type: 'file', executable, data };
  }
  return { type: 'directory', entries: root };
}

/** A hex SHA-256 of the tree in a canonical serialisation (names sorted, lengths prefixed). */
export function hashTree(node: FsNode): string {
  const hash = createHash('sha256');
  feed(hash, node);
  return hash.digest('hex');
}

function feed(hash: Hash, node: FsNode): void {
  const field = (value: string | Buffer) => {
    const bytes = typeof value === 'string' ? Buffer.from(value) : value;
    hash.update(`${bytes.length}:`).update(bytes);
  };
  field(node.type);
  if (node.type === 'file') {
    field(node.executable ? 'x' : '-');
    field(node.data);
  } else if (node.type === 'symlink') {
    field(node.target);
  } else {
    const names = Object.keys(node.entries).sort();
    field(String(names.length));
    for (const name of names) {
      field(name);
      feed(hash, node.entries[name] as FsNode);
    }
  }
}

export async function ensureParent(path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
}
