import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { relativePathProblem } from './snapshot-paths';

/**
 * The files of a snapshot directory, in a stable order (so the list of paths and the list of
 * contents, asked for in two calls, line up). Only regular files travel. A symbolic link is
 * followed only when it stays inside the snapshot; one that leads out, or to a directory (a
 * possible loop), refuses the whole snapshot, so no file outside a snapshot is ever served.
 */
export interface SnapshotFile {
  /** Path relative to the snapshot directory, with `/` separators. */
  readonly relative: string;
  /** Real path of the file to read. */
  readonly path: string;
  readonly size: number;
}

export class SnapshotTreeError extends Error {
  override readonly name = 'SnapshotTreeError';
}

export async function listSnapshotFiles(dir: string): Promise<SnapshotFile[]> {
  const root = await realpath(dir);
  if (!(await stat(root)).isDirectory()) throw new SnapshotTreeError(`${dir} is not a directory`);
  const files: SnapshotFile[] = [];
  await walk(root, root, '', files);
  return files;
}

async function walk(root: string, dir: string, prefix: string, files: SnapshotFile[]): Promise<void> {
  const names = (await readdir(dir)).sort();
  for (const name of names) {
    const relative = prefix === '' ? name : `${prefix}/${name}`;
    const problem = relativePathProblem(relative);
    if (problem !== undefined) throw new SnapshotTreeError(`the snapshot holds a file whose path ${problem}: ${JSON.stringify(relative)}`);
    const path = join(dir, name);
    const info = await lstat(path);
    if (info.isDirectory()) {
      await walk(root, path, relative, files);
    } else if (info.isFile()) {
      files.push({ relative, path, size: info.size });
    } else if (info.isSymbolicLink()) {
      const target = await realpath(path).catch(() => undefined);
      if (target === undefined || !isInside(root, target)) {
        throw new SnapshotTreeError(`the snapshot's link ${relative} leads outside the snapshot; it is not served`);
      }
      const targetInfo = await stat(target);
      if (!targetInfo.isFile()) throw new SnapshotTreeError(`the snapshot's link ${relative} does not lead to a file; it is not served`);
      files.push({ relative, path: target, size: targetInfo.size });
    } else {
      throw new SnapshotTreeError(`the snapshot holds ${relative}, which is neither a file nor a directory`);
    }
  }
}

/** Whether `path` is `root` itself or lies below it (both real paths). */
export function isInside(root: string, path: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}
