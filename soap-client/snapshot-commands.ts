import { mkdir, rename } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { FileSegment } from '../protocol/codec/message-writer';
import { pathSetProblem, relativePathProblem } from '../protocol/snapshot-paths';
import { SnapshotTreeError, listSnapshotFiles } from '../protocol/snapshot-files';
import { createDownloadArea } from './download-area';
import { ClientError, fileProblem } from './errors';
import { createProgress } from './progress';
import { type TransferTarget, callTransfer, noFilesExpected, uploadFiles } from './transfer-http';

/**
 * `--import-snapshots --localfile --container C --component X DIR...`: each snapshot directory
 * goes up as one call holding every file of its tree with its relative path; the target
 * imports it under the directory's name.
 */
export async function importLocalSnapshots(target: TransferTarget, container: string, component: string, dirs: readonly string[]): Promise<string> {
  for (const dir of dirs) {
    const files = await localSnapshotFiles(dir);
    const total = files.reduce((sum, file) => sum + file.size, 0);
    const content: FileSegment[] = files.map((file) => ({ path: file.path, size: file.size, location: file.relative }));
    const values = { container, component, snapshot: basename(dir), content, path: files.map((file) => file.relative) };
    await uploadFiles(target, 'importLocalSnapshots', values, basename(dir), total);
  }
  return '';
}

/**
 * `--export-snapshots SNAPSHOT...`: for each snapshot, its file list, then its files, land in a
 * new directory under $TMPDIR named after the snapshot; the output is one such directory per
 * line, ready for `--import-snapshots --localfile` elsewhere.
 */
export async function exportRemoteSnapshots(target: TransferTarget, snapshots: readonly string[]): Promise<string> {
  const out: string[] = [];
  for (const snapshot of snapshots) out.push(await exportOne(target, snapshot));
  return out.map((dir) => `${dir}\n`).join('');
}

async function exportOne(target: TransferTarget, snapshot: string): Promise<string> {
  const name = basename(snapshot.replace(/\/+$/, ''));
  if (relativePathProblem(name) !== undefined) throw new ClientError(`--export-snapshots: "${snapshot}" names no snapshot`);
  const area = await createDownloadArea('disnix-snapshot');
  const progress = createProgress(`download ${name}`, undefined, 'waiting for the target');
  try {
    const listing = await callTransfer({
      ...target,
      operation: 'exportRemoteSnapshotPaths',
      values: { snapshot },
      form: 'inline',
      answersFiles: false,
      newFilePath: noFilesExpected,
    });
    const paths = listing.items.map((item) => (item.kind === 'text' ? item.text : ''));
    // The server is not trusted with where files land either.
    const bad = paths.find((path) => relativePathProblem(path) !== undefined);
    if (bad !== undefined) throw new ClientError(`the gateway named a snapshot file ${JSON.stringify(bad)}, whose path ${relativePathProblem(bad)}`);
    const setProblem = pathSetProblem(paths);
    if (setProblem) throw new ClientError(`the gateway's list of snapshot files is unusable: ${setProblem}`);
    const answer = await callTransfer({
      ...target,
      operation: 'exportRemoteSnapshots',
      values: { snapshot },
      form: 'inline',
      answersFiles: true,
      newFilePath: area.newFilePath,
      download: progress,
    });
    const files = answer.items.flatMap((item) => (item.kind === 'file' ? [item.file] : []));
    if (files.length !== paths.length) throw new ClientError(`the gateway listed ${paths.length} files of ${snapshot} but sent ${files.length}`);
    const tree = join(area.dir, name);
    await mkdir(tree);
    for (const [index, path] of paths.entries()) {
      const location = files[index].location;
      if (location !== undefined && decodeURI(location) !== path) throw new ClientError(`the gateway sent ${location} where ${path} was expected`);
      const destination = join(tree, ...path.split('/'));
      await mkdir(dirname(destination), { recursive: true });
      await rename(files[index].path, destination);
    }
    await area.removeParts();
    return tree;
  } catch (error) {
    await area.remove();
    throw error;
  } finally {
    progress.stop();
  }
}

async function localSnapshotFiles(dir: string) {
  try {
    return await listSnapshotFiles(dir);
  } catch (error) {
    if (error instanceof SnapshotTreeError) throw new ClientError(`cannot send the snapshot ${dir}: ${error.message}`);
    // A file inside the tree may be the one at fault: name it.
    const { path } = error as NodeJS.ErrnoException;
    const inner = typeof path === 'string' && path.replace(/\/+$/, '') !== dir.replace(/\/+$/, '') ? ` ${path}:` : '';
    throw new ClientError(`cannot read the snapshot ${dir}:${inner} ${fileProblem(error)}`);
  }
}
